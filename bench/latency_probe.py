"""Timing probes inside the server under test, for bench/latency_parts.py: served as ``bench.latency_probe:app``.

It is the service's app with clocks around the parts a decision waits on: the whole request (from
the ASGI call to the last byte handed to the server), the wait for the audit commit, each batch the
writer commits (wall time and the writer thread's CPU time) and its two steps on the database
(locking the chains' heads with the entries' numbers; then the records, the heads' moves and the
commit, one round trip on PostgreSQL), and the collector's pauses. ``POST /bench-probe/reset`` (answered here, never by the service) empties them
after a warm-up; when the process exits the figures are written as JSON to PROBE_OUT.
"""

from __future__ import annotations

import gc
import json
import os
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection

from service.main import app as service_app
from service.store import chain

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
RESET_PATH = "/bench-probe/reset"

spans: dict[str, list[float]] = {
    "request": [],
    "commit_wait": [],
    "batch": [],
    "batch_cpu": [],
    "lock_heads": [],
    "records_commit": [],
    "gc_pause": [],
}
entries_per_batch: list[int] = []


def _reset() -> None:
    for values in spans.values():
        values.clear()
    entries_per_batch.clear()


_append_async = chain.ChainWriter.append_async
_append = chain.ChainWriter._append
_lock_heads = chain._lock_heads
_batched = chain._batched


async def _timed_append_async(self: chain.ChainWriter, *args: Any, **kwargs: Any) -> Any:
    started = time.perf_counter()
    try:
        return await _append_async(self, *args, **kwargs)
    finally:
        spans["commit_wait"].append(time.perf_counter() - started)


def _timed_append(self: chain.ChainWriter, entries: list[chain.NewEntry], deadline: float) -> Any:
    started, cpu = time.perf_counter(), time.thread_time()
    try:
        return _append(self, entries, deadline)
    finally:
        spans["batch"].append(time.perf_counter() - started)
        spans["batch_cpu"].append(time.thread_time() - cpu)
        entries_per_batch.append(len(entries))


_locking = threading.local()


def _timed_lock_heads(*args: Any, **kwargs: Any) -> Any:
    started = time.perf_counter()
    _locking.active = True
    try:
        return _lock_heads(*args, **kwargs)
    finally:
        _locking.active = False
        spans["lock_heads"].append(time.perf_counter() - started)


@contextmanager
def _timed_batched(connection: Connection) -> Iterator[Any]:
    """The records' block (the writer's commit is its last statement), timed from its start to its end."""
    started = time.perf_counter()
    try:
        with _batched(connection) as batched:
            yield batched
    finally:
        # Locking the heads is a block of its own on PostgreSQL, timed above.
        if threading.current_thread().name == "chain-writer" and not getattr(_locking, "active", False):
            spans["records_commit"].append(time.perf_counter() - started)


chain.ChainWriter.append_async = _timed_append_async  # type: ignore[method-assign]
chain.ChainWriter._append = _timed_append  # type: ignore[method-assign]
chain._lock_heads = _timed_lock_heads
chain._batched = _timed_batched

_gc_started: list[float] = []


def _gc_callback(phase: str, _info: dict[str, int]) -> None:
    if phase == "start":
        _gc_started[:] = [time.perf_counter()]
    elif _gc_started:
        spans["gc_pause"].append(time.perf_counter() - _gc_started[0])


gc.callbacks.append(_gc_callback)


async def app(scope: Scope, receive: Callable[[], Awaitable[Message]], send: Callable[[Message], Awaitable[None]]) -> None:
    if scope["type"] == "lifespan":

        async def send_on_shutdown(message: Message) -> None:
            # uvicorn ends the process with the signal that stopped it, so atexit would not run.
            if message["type"] == "lifespan.shutdown.complete":
                _write()
            await send(message)

        await service_app(scope, receive, send_on_shutdown)
        return
    if scope["type"] != "http":
        await service_app(scope, receive, send)
        return
    if scope["path"] == RESET_PATH:
        _reset()
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    started = time.perf_counter()

    async def timed_send(message: Message) -> None:
        await send(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            spans["request"].append(time.perf_counter() - started)

    await service_app(scope, receive, timed_send)


def _write() -> None:
    out = os.environ.get("PROBE_OUT")
    if out:
        with open(out, "w", encoding="utf-8") as handle:
            json.dump({"spans": spans, "entries_per_batch": entries_per_batch}, handle)
