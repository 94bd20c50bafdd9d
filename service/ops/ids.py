"""Random (version 4) UUIDs from a buffer of the operating system's randomness.

uuid.uuid4() asks the kernel for 16 bytes each time, a system call per record id and request id;
this asks for 4 KiB at a time and hands out 16 bytes of it per id, under a lock (ids are made on
the event loop and in worker threads). A process forked from this one starts with an empty buffer,
so two workers never hand out the same bytes.
"""

from __future__ import annotations

import os
import threading
import uuid

_CHUNK = 4096
_lock = threading.Lock()
_buffer = b""
_offset = _CHUNK


def _forget() -> None:
    global _buffer, _offset
    _buffer, _offset = b"", _CHUNK


os.register_at_fork(after_in_child=_forget)


def random_uuid() -> uuid.UUID:
    """A version 4 UUID, as uuid.uuid4() makes one."""
    global _buffer, _offset
    with _lock:
        if _offset >= len(_buffer):
            _buffer, _offset = os.urandom(_CHUNK), 0
        raw = _buffer[_offset : _offset + 16]
        _offset += 16
    return uuid.UUID(bytes=raw, version=4)
