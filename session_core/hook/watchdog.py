"""The watchdog of a hook process: it ends the process at the event's time budget even while
SQLite or the file system hangs in C, after saying so in the log and in ``health.json``."""

from __future__ import annotations

import os
import time
from _thread import start_new_thread


class Watchdog:
    """Ends the process at the deadline: a thread runs even while SQLite waits on a lock in C.

    A bare ``_thread`` polling every 50 ms rather than ``threading.Timer``: ``threading`` is kept
    off the hook path, and the deadline can move once settings are read.
    """

    def __init__(self, event: str, project: str) -> None:
        self.event, self.project = event, project
        self.deadline: float | None = None
        self.cancelled = False

    def arm(self, deadline: float) -> None:
        first = self.deadline is None
        self.deadline = deadline
        if first:
            start_new_thread(self._watch, ())

    def cancel(self) -> None:
        self.cancelled = True

    def _watch(self) -> None:
        while not self.cancelled and self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                self._expire()
            time.sleep(min(left, 0.05))

    def _expire(self) -> None:
        from . import log  # only at the deadline

        message = "gave up at the time budget (archive locked or slow); will catch up later"
        log.log("ERROR", self.event, message)
        log.record_health(self.project, self.event, message)
        os._exit(0)
