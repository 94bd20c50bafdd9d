"""The framework's ceiling: the same request model validated, a response of the same size, nothing decided or recorded."""

from __future__ import annotations

import os

from fastapi import FastAPI, Response

from service.api.schemas.assessments import AssessmentRequest

app = FastAPI()
RESPONSE_BYTES = int(os.environ.get("BARE_RESPONSE_BYTES", "9000"))
_BODY = ('{"padding":"' + "x" * max(0, RESPONSE_BYTES - 14) + '"}').encode()


@app.post("/v1/assessments")
def assess(body: AssessmentRequest) -> Response:
    return Response(content=_BODY, media_type="application/json")
