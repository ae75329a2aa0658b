"""A dependency-free progress bar for long imports, drawn on stderr only when it is a terminal."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TextIO


class ProgressBar:
    def __init__(self, stream: TextIO | None = None, min_interval: float = 0.1) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.min_interval = min_interval
        self._last = 0.0

    def __call__(self, done: int, total: int, path: Path) -> None:
        if not self.enabled or total < 2:
            return
        now = time.monotonic()
        if done < total and now - self._last < self.min_interval:
            return
        self._last = now
        width = 30
        filled = width * done // total
        name = path.name[-40:] if done < total else "done"
        self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {name:<40}")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()
