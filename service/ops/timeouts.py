"""uvicorn's httptools protocol with the two deadlines it lacks: a request head and a request body.

uvicorn closes a connection left idle after a response (``timeout_keep_alive``), but once a client
has sent a single byte, or has just connected, it waits for the rest for ever; and it waits for a
declared body for ever. A few hundred such connections (slowloris) hold the server's sockets and
memory. This protocol adds:

- the head deadline: a connection must deliver a complete request head within
  ``HEADER_TIMEOUT_SECONDS`` of being opened, or of its previous response finishing. A partial
  head is answered 408 and the connection closed; a connection that sent nothing is closed.
- the body deadline: once the head is in, the body must keep arriving, with no gap longer than
  ``BODY_TIMEOUT_SECONDS``. A stalled body is answered with a 408 problem (unless a response has
  started) and the connection closed; the application sees the client disconnect.

Both are timers on the event loop (one per connection at a time), not tasks, so an idle connection
costs nothing until its deadline. uvicorn loads this class in each worker from its import string
(``--http service.ops.timeouts:TimeoutHttpProtocol``); the values come from the settings.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Literal

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from service.config import get_settings
from service.errors import PROBLEM_MEDIA_TYPE, ServiceError

logger = logging.getLogger("service.timeouts")


class RequestTimeout(ServiceError):
    status_code = 408
    slug = "request-timeout"
    title = "The request was not received in time"


def timeout_response(*, detail: str, instance: str | None, default_headers: list[tuple[bytes, bytes]]) -> bytes:
    """A complete HTTP/1.1 408 problem+json response that closes the connection."""
    body = json.dumps(RequestTimeout(detail).problem(instance=instance)).encode("utf-8")
    head = [b"HTTP/1.1 408 Request Timeout"]
    head += [name + b": " + value for name, value in default_headers]
    head += [
        b"content-type: " + PROBLEM_MEDIA_TYPE.encode("ascii"),
        b"content-length: " + str(len(body)).encode("ascii"),
        b"connection: close",
    ]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


class TimeoutHttpProtocol(HttpToolsProtocol):
    """HttpToolsProtocol with a deadline for the request head and for each gap in the request body."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        settings = get_settings()
        self.header_timeout = settings.header_timeout_seconds
        self.body_timeout = settings.body_timeout_seconds
        # One deadline at a time: the head's while the connection waits for a request, the body's while
        # a request's body is arriving. The body's is checked against the time the last bytes came,
        # so a steady upload re-arms no timer.
        self._deadline: asyncio.TimerHandle | None = None
        self._waiting_for: Literal["head", "body"] | None = None
        self._head_started = False
        self._body_progress = 0.0

    # --- the head ---------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm("head", self.header_timeout)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_started = True

    def on_headers_complete(self) -> None:
        self._head_started = False
        self._body_progress = self.loop.time()
        self._arm("body", self.body_timeout)
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        pipelined = bool(self.pipeline)
        super().on_response_complete()
        # The next request's head is due from now, unless one is already queued behind this one.
        if not pipelined and not self.transport.is_closing():
            self._arm("head", self.header_timeout)

    def handle_websocket_upgrade(self) -> None:
        self._cancel()
        super().handle_websocket_upgrade()

    def _head_timed_out(self) -> None:
        self._deadline = self._waiting_for = None
        if self.transport.is_closing():
            return
        if self._head_started:
            logger.warning(
                "request head not complete in time; answered 408 and closed",
                extra={"fields": {"client": _address(self.client), "status": 408, "timeout_s": self.header_timeout}},
            )
            self.transport.write(
                timeout_response(
                    detail=f"The request head was not complete within {self.header_timeout:g} s.",
                    instance=None,
                    default_headers=self.server_state.default_headers,
                )
            )
        self.transport.close()

    # --- the body ---------------------------------------------------------------------------------

    def on_body(self, body: bytes) -> None:
        self._body_progress = self.loop.time()
        super().on_body(body)

    def on_message_complete(self) -> None:
        if self._waiting_for == "body":
            self._cancel()
        super().on_message_complete()

    def _body_timed_out(self) -> None:
        self._deadline = self._waiting_for = None
        cycle = self.cycle
        if self.transport.is_closing() or cycle is None or cycle.response_complete or not cycle.more_body:
            return
        waited = self.loop.time() - self._body_progress
        if waited < self.body_timeout:
            self._arm("body", self.body_timeout - waited)
            return
        if self.flow.read_paused or cycle.waiting_for_100_continue:
            # The server is not reading (the application has not taken what it has, or has not asked
            # for the body after an Expect: 100-continue): the client is not the one stalling.
            self._body_progress = self.loop.time()
            self._arm("body", self.body_timeout)
            return
        path = cycle.scope.get("path")
        logger.warning(
            "request body stalled; answered 408 and closed",
            extra={"fields": {"client": _address(self.client), "path": path, "status": 408, "timeout_s": self.body_timeout}},
        )
        if not cycle.response_started:
            self.transport.write(
                timeout_response(
                    detail=f"The request body stopped arriving for {self.body_timeout:g} s.",
                    instance=path,
                    default_headers=self.server_state.default_headers,
                )
            )
        # As if the client had gone: the application's receive() answers http.disconnect and
        # anything it still sends is dropped, so nothing follows the 408 on the wire.
        cycle.disconnected = True
        cycle.message_event.set()
        self.transport.close()

    # --- the timer --------------------------------------------------------------------------------

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        super().connection_lost(exc)

    def _arm(self, waiting_for: Literal["head", "body"], delay: float) -> None:
        self._cancel()
        self._waiting_for = waiting_for
        self._deadline = self.loop.call_later(delay, self._head_timed_out if waiting_for == "head" else self._body_timed_out)

    def _cancel(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = None
        self._waiting_for = None


def _address(client: tuple[str, int] | None) -> str | None:
    return f"{client[0]}:{client[1]}" if client else None
