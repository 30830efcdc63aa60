"""Progress display: one line per event on a terminal, a short summary in CI or with --quiet."""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

SYMBOLS = {"running": "…", "cached": "=", "done": "✓", "failed": "✗", "skipped": "-"}


class Progress:
    def __init__(self, quiet: bool | None = None, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.quiet = bool(os.environ.get("CI")) if quiet is None else quiet
        self.started = time.monotonic()
        self.counts: dict[str, int] = {}

    def _emit(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def notebook(self, name: str, status: str, seconds: float | None = None, detail: str = "") -> None:
        if status != "running":
            self.counts[status] = self.counts.get(status, 0) + 1
        if self.quiet and status != "failed":
            return
        timing = f"{seconds:6.1f} s" if seconds is not None else " " * 8
        self._emit(f"  {SYMBOLS.get(status, '?')} {status:<8}{timing}  {name}{('  ' + detail) if detail else ''}")

    def step(self, message: str) -> None:
        if not self.quiet:
            self._emit(f"review: {message}")

    def warn(self, message: str) -> None:
        """Shown in CI and with --quiet too: something the author should act on."""
        self._emit(f"review: warning: {message}")

    def summary(self, message: str) -> None:
        counts = ", ".join(f"{n} {k}" for k, n in sorted(self.counts.items()))
        elapsed = time.monotonic() - self.started
        self._emit(f"review: {message} in {elapsed:.1f} s" + (f" (notebooks: {counts})" if counts else ""))
