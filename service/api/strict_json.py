"""JSON request bodies decoded once, strictly: an object that names a key twice is a 422.

`json.loads` keeps the last of two equal keys, so `{"force": "kent", "force": "west-midlands"}` would be decided
for one force while a log, a proxy or the caller's own record may read the other. Every route with a body decodes
it here in one pass that refuses duplicates, and FastAPI validates that same result instead of parsing again. A
body that is not JSON at all is left to FastAPI, which reports it as before (`json_invalid`, `body_unreadable`).
"""

from __future__ import annotations

import email.message
import functools
import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.types import Receive, Scope

from service.errors import InvalidRequest, field_path


class _DuplicateKey(Exception):
    """Raised from inside the decoder, which stops at the first object holding a key twice."""


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _DuplicateKey
    return result


class _Pairs(list[tuple[str, Any]]):
    """An object kept as its pairs (duplicates included), to find where a duplicate is; arrays stay lists."""


_STRICT = json.JSONDecoder(object_pairs_hook=_unique)
_AS_PAIRS = json.JSONDecoder(object_pairs_hook=_Pairs)


def _text(body: bytes) -> str:
    """The body as json.loads reads bytes: UTF-8, -16 or -32, detected."""
    return body.decode(json.detect_encoding(body), "surrogatepass")


def _first_duplicate(node: Any, where: tuple[str | int, ...]) -> tuple[str | int, ...] | None:
    """The location of the first key repeated within one object, in document order."""
    if isinstance(node, _Pairs):
        seen: set[str] = set()
        for key, value in node:
            if key in seen:
                return (*where, key)
            seen.add(key)
            found = _first_duplicate(value, (*where, key))
            if found is not None:
                return found
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found = _first_duplicate(value, (*where, index))
            if found is not None:
                return found
    return None


def _duplicate_key_problem(body: bytes) -> InvalidRequest:
    """The 422 naming the duplicated key; the body is read a second time only on this error path."""
    try:
        location = _first_duplicate(_AS_PAIRS.decode(_text(body)), ())
    except (ValueError, RecursionError):
        location = None
    field = field_path(location) if location else "body"
    key = location[-1] if location else None
    detail = f"The body names the key '{key}' more than once in one object." if key is not None else "The body repeats a key."
    return InvalidRequest(
        detail,
        errors=[{"field": field, "message": "duplicate key: each key may appear once in a JSON object", "code": "duplicate_key"}],
    )


def decode_strictly(body: bytes) -> Any:
    """The body decoded as json.loads would, except that a repeated key is an InvalidRequest naming it."""
    try:
        return _STRICT.decode(_text(body))
    except _DuplicateKey:
        raise _duplicate_key_problem(body) from None


def _is_json(content_type: str | None) -> bool:
    """The content types FastAPI decodes as JSON (application/json and application/*+json)."""
    if not content_type:
        return False
    return _is_json_type(content_type)


@functools.lru_cache(maxsize=64)
def _is_json_type(content_type: str) -> bool:
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


class StrictJSONRequest(Request):
    """A request whose JSON body is decoded once by decode_strictly; FastAPI's json() gets that result."""

    def __init__(self, scope: Scope, receive: Receive) -> None:
        super().__init__(scope, receive)
        self._decoded: tuple[Any] | None = None
        self._undecodable: Exception | None = None

    async def decode(self) -> None:
        """Decode a JSON body now: a duplicate key raises the 422; other failures wait for FastAPI to report."""
        if not _is_json(self.headers.get("content-type")):
            return
        try:
            body = await self.body()
        except Exception:  # a disconnect or a broken stream: FastAPI's own read reports it as before
            return
        if not body:
            return
        try:
            self._decoded = (decode_strictly(body),)
        except InvalidRequest:
            raise
        except Exception as exc:  # not JSON (or too deeply nested): reported by FastAPI as it always has been
            self._undecodable = exc

    @property
    def decoded(self) -> tuple[Any] | None:
        """The decoded body in a 1-tuple, once ``decode`` has decoded a JSON body; None otherwise."""
        return self._decoded

    async def json(self) -> Any:
        if self._undecodable is not None:
            raise self._undecodable
        if self._decoded is not None:
            return self._decoded[0]
        return await super().json()


class StrictJSONRoute(APIRoute):
    """An API route whose JSON request body is decoded strictly, once."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler

        async def strict_handler(request: Request) -> Response:
            strict = StrictJSONRequest(request.scope, request.receive)
            await strict.decode()
            return await handler(strict)

        return strict_handler
