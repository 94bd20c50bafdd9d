"""Every request: an X-Request-ID, a body size limit, one JSON access-log line, and metrics."""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import PROBLEM_MEDIA_TYPE, PayloadTooLarge
from service.ops.context import REQUEST_CONTEXT
from service.ops.ids import random_uuid
from service.ops.metrics import Metrics

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
access_log = logging.getLogger("service.access")


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that yields the already-read body once, then defers to the connection."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class RequestMiddleware:
    """Pure ASGI, so it adds no task or thread hop to the request."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, max_body_bytes: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        offered = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = offered if REQUEST_ID.match(offered) else random_uuid().hex
        context: dict[str, Any] = {"request_id": request_id}
        token = REQUEST_CONTEXT.set(context)
        started = time.perf_counter()
        status = {"code": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message["headers"] = list(message.get("headers", [])) + [(b"x-request-id", request_id.encode("latin-1"))]
            await send(message)

        try:
            length = headers.get(b"content-length")
            if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
                await self._too_large(scope, send_with_id)
            elif length is None and scope["method"] in ("POST", "PUT", "PATCH"):
                # No declared length (chunked): read it here, up to the limit, then hand it on.
                body = await self._read_limited(receive)
                if body is None:
                    await self._too_large(scope, send_with_id)
                else:
                    await self.app(scope, _replay(body, receive), send_with_id)
            else:
                await self.app(scope, receive, send_with_id)
        finally:
            REQUEST_CONTEXT.reset(token)
            self._observe(scope, context, status["code"], time.perf_counter() - started)

    async def _read_limited(self, receive: Receive) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)
            size += len(message.get("body", b""))
            if size > self.max_body_bytes:
                return None
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _too_large(self, scope: Scope, send: Send) -> None:
        error = PayloadTooLarge(f"The body is larger than {self.max_body_bytes} bytes.")
        body = json.dumps(error.problem(instance=scope.get("path"))).encode("utf-8")
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", PROBLEM_MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _observe(self, scope: Scope, context: dict[str, Any], status: int, elapsed: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        self.metrics.latency.labels(scope["method"], template, str(status)).observe(elapsed)
        decisions = context.get("decisions", [])
        for decision in decisions:
            self.metrics.decisions.labels(decision["force"], decision["decision"]).inc()
        if context.get("audit_write_failed"):
            self.metrics.audit_failures.inc()
        line: dict[str, Any] = {
            "request_id": context["request_id"],
            "method": scope["method"],
            "path": scope["path"],
            "route": template,
            "status": status,
            "latency_ms": round(elapsed * 1000, 3),
        }
        if len(decisions) == 1:
            line.update(decisions[0])
        elif decisions:
            line["decisions"] = len(decisions)
            line["force"] = decisions[0]["force"]
            line["policy_version"] = decisions[0]["policy_version"]
        access_log.info("request", extra={"fields": line})
