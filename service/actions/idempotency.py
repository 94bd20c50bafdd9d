"""Idempotency-Key handling for the posts a CAD retries: a retry gets the recorded answer."""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Awaitable, Callable
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import Connection

from service.actions.access import Caller
from service.errors import Conflict, InvalidRequest
from service.store.idempotency import IdempotencyStore, completion

KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")
Completion = Callable[[int, str, str], Callable[[Connection], None]]  # (status, answer, record id)


async def run_idempotent(
    *,
    store: IdempotencyStore,
    caller: Caller,
    key: str | None,
    endpoint: str,
    body: BaseModel,
    now: datetime,
    run: Callable[[Completion | None], Awaitable[tuple[int, str]]],
) -> tuple[int, str, bool]:
    """(status, body, replayed). Without a key this just runs; with one, it runs at most once per
    caller and endpoint (the same key on another endpoint is another key)."""
    if key is None:
        status, answer = await run(None)
        return status, answer, False
    if not KEY_PATTERN.match(key):
        raise InvalidRequest(
            "The Idempotency-Key header must be 1 to 255 visible ASCII characters.",
            errors=[
                {"field": "Idempotency-Key", "message": "1 to 255 visible ASCII characters", "code": "invalid_idempotency_key"}
            ],
        )
    request_hash = "sha256:" + hashlib.sha256(f"{endpoint}\n{body.model_dump_json()}".encode()).hexdigest()
    claim = await asyncio.to_thread(
        store.claim, caller_key_id=caller.key_id, key=key, endpoint=endpoint, request_hash=request_hash, now=now
    )
    if not claim.claimed:
        if claim.request_hash != request_hash:
            raise InvalidRequest(
                "This Idempotency-Key was used with a different request; use a new key for a new request.",
                errors=[
                    {
                        "field": "Idempotency-Key",
                        "message": "already used with a different body",
                        "code": "idempotency_key_reused",
                    }
                ],
            )
        if claim.status == "done" and claim.response_status is not None and claim.response_body is not None:
            return claim.response_status, claim.response_body, True
        raise Conflict("A request with this Idempotency-Key is still being decided; retry shortly to get its answer.")

    def complete(status: int, answer: str, record_id: str) -> Callable[[Connection], None]:
        return completion(
            caller_key_id=caller.key_id, key=key, endpoint=endpoint, status=status, body=answer, record_id=record_id, now=now
        )

    try:
        status, answer = await run(complete)
    except BaseException:
        await asyncio.to_thread(store.release, caller_key_id=caller.key_id, key=key, endpoint=endpoint)
        raise
    return status, answer, False
