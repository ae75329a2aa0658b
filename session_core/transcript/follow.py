"""Following transcripts as Claude Code writes them (``session-core watch``): when a file that
keeps changing is due to be ingested.

Claude Code appends a line per content block, often several in a few milliseconds, so one
ingest per change would take the archive's lock over and over for a line each. A file is due
once it has been quiet for :data:`QUIET_S`, and at the latest :data:`MOST_WAIT_S` after the
first change not yet ingested: a file appended to without pause is still archived about every
second. Truncation, rewriting and deletion need nothing here: an ingest of a file that shrank or
changed archives it as a new generation (``ingest``), and a file that is gone is the archive's
to keep.
"""

from __future__ import annotations

QUIET_S = 0.3
MOST_WAIT_S = 1.0


class Debounce:
    """Paths changed and not ingested yet, each with when it is due. Not thread-safe: the
    watcher's event thread and the thread that ingests share it under one lock."""

    __slots__ = ("most_wait", "pending", "quiet")

    def __init__(self, quiet: float = QUIET_S, most_wait: float = MOST_WAIT_S) -> None:
        self.quiet, self.most_wait = quiet, most_wait
        self.pending: dict[str, tuple[float, float]] = {}
        """path -> (first change not ingested, latest change), monotonic seconds."""

    def touch(self, path: str, now: float) -> None:
        """``path`` changed at ``now``."""
        first, _ = self.pending.get(path, (now, now))
        self.pending[path] = (first, now)

    def due_at(self, path: str) -> float:
        first, last = self.pending[path]
        return min(last + self.quiet, first + self.most_wait)

    def next_due(self) -> float | None:
        """When the next path is due (None: nothing pending)."""
        return min(map(self.due_at, self.pending), default=None)

    def take_due(self, now: float) -> list[str]:
        """The paths due at ``now``, no longer pending, the longest waiting first."""
        due = sorted((p for p in self.pending if self.due_at(p) <= now),
                     key=lambda p: self.pending[p][0])
        for path in due:
            del self.pending[path]
        return due
