"""The command that serves the service: uvicorn with the connection deadlines from the settings.

    python -m service.ops.server [--host 127.0.0.1] [--port 8000] [--workers 1]

It is ``uvicorn service.main:app`` with uvicorn's HTTP protocol replaced by one that also times out
request heads and stalled bodies (``service/ops/timeouts.py``, HEADER_TIMEOUT_SECONDS and
BODY_TIMEOUT_SECONDS) and with the keep-alive idle timeout set from KEEP_ALIVE_TIMEOUT_SECONDS.
The application and the protocol are given to uvicorn as import strings, so every worker process
loads both itself.

No cap is put on concurrent connections. uvicorn's ``limit_concurrency`` counts every open
connection, idle and stalled ones included, and answers 503 to new requests beyond it: a client
holding connections open would then turn a dispatcher's request away. The deadlines bound how long
any connection is held instead; a cap on connections belongs to the load balancer in front.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import uvicorn
from pydantic import ValidationError

from service.config import get_settings

APP = "service.main:app"
PROTOCOL = "service.ops.timeouts:TimeoutHttpProtocol"


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value} is not a positive whole number")
    return number


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line: where to listen and how many worker processes."""
    parser = argparse.ArgumentParser(
        prog="python -m service.ops.server", description="Serve the PCSO deployment decision service."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    parser.add_argument("--workers", type=_positive, default=1, help="worker processes (default 1)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the service until stopped; exit non-zero when the settings are invalid or it cannot start."""
    args = parse_args(argv)
    try:
        settings = get_settings()
    except ValidationError as exc:
        sys.exit(f"refusing to start, invalid settings: {exc}")
    uvicorn.run(
        APP,
        host=args.host,
        port=args.port,
        workers=args.workers,
        http=PROTOCOL,
        timeout_keep_alive=settings.keep_alive_timeout_seconds,
        limit_concurrency=None,
    )


if __name__ == "__main__":
    main()
