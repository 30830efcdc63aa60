"""One build at a time per checkout: a second ``review build`` stops with a clear message."""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path

from review_utils.core.errors import ReviewError


@contextmanager
def build_lock(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise ReviewError(
                f"another review build is running in this checkout (pid {holder}); "
                "wait for it to finish, then run again"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()  # closing releases the lock, also when the process dies
