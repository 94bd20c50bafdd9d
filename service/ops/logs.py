"""Structured logs: one JSON object per line, each carrying the request id of the request it is about."""

from __future__ import annotations

import atexit
import logging
import logging.handlers
import queue
import sys
from datetime import UTC, datetime

import pydantic_core

from service.ops.context import current_request_id

_listener: logging.handlers.QueueListener | None = None


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="microseconds")[:-6] + "Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or current_request_id()
        if request_id:
            entry["request_id"] = request_id
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return pydantic_core.to_json(entry, fallback=str).decode("utf-8")


class _ContextQueueHandler(logging.handlers.QueueHandler):
    """Takes the request id from the caller's thread (where the request context is) and hands the
    record over as it is: the listener's thread formats and writes it, off the event loop."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        record.request_id = getattr(record, "request_id", None) or current_request_id()
        return record


def configure_logging(level: str) -> None:
    """JSON lines on stderr for the service and for uvicorn; uvicorn's own access log is replaced.

    Records go through a queue to a listener thread, so a slow or blocked stderr never stalls
    the event loop that serves requests.
    """
    global _listener
    # No record names its source line, thread or process, so logging need not look them up (it walks
    # the stack for each record otherwise).
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    if _listener is None:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(JsonFormatter())
        _listener = logging.handlers.QueueListener(queue.SimpleQueue(), stream, respect_handler_level=False)
        _listener.start()
        atexit.register(_listener.stop)
    handler = _ContextQueueHandler(_listener.queue)
    for name in ("service", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.propagate = False
        logger.setLevel(level.upper())
    logging.getLogger("uvicorn.access").disabled = True
