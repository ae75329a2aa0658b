"""The archive's SQLite connection: opened the one way that is safe under concurrent hooks.

WAL so readers never block the writer, ``busy_timeout`` set before anything else touches the file,
and ``BEGIN IMMEDIATE`` for every write: with plain ``BEGIN`` two read-then-write transactions
deadlock on the lock upgrade and one fails with "database is locked" regardless of the timeout.
``synchronous=FULL``: a committed save survives power loss (see README, "Durability").
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

from . import paths
from .errors import BusyError, DatabaseError

APPLICATION_ID = 0x53434F52  # "SCOR"
BATCH_SECONDS = 0.5
MAX_DEFERRED_ROWS = 50_000
SQLITE_HEADER = b"SQLite format 3\x00"


def _check_file_is_sqlite(path: str) -> None:
    """Refuse a file that is not SQLite before sqlite3 guesses; a 0-byte file counts as new."""
    try:
        with open(path, "rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise DatabaseError(f"cannot read archive {path}: {exc}", "check its permissions") from exc
    if header and header != SQLITE_HEADER:
        raise DatabaseError(
            f"{path} is not a SQLite database (it may be damaged or overwritten)",
            "move it aside, then 'session-core import' rebuilds it from the transcripts Claude Code"
            " still has (verified backups are in .claude/session-core/backups/)",
        )


def translate(exc: sqlite3.Error, path: str) -> DatabaseError:
    """Turn sqlite3's errors into ours, with a hint a user can act on."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return BusyError(
            f"the archive {path} stayed locked by another writer past the busy timeout",
            "retry in a moment; raise 'busy_timeout_ms' in .claude/session-core.json if it recurs",
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return DatabaseError(
            f"the archive {path} is damaged ({text})",
            "move it aside, then 'session-core import' rebuilds it from the transcripts Claude Code"
            " still has (verified backups are in .claude/session-core/backups/)",
        )
    if "disk" in text or "full" in text:
        return DatabaseError(f"cannot write the archive {path} ({text})", "free disk space")
    return DatabaseError(f"archive {path}: {text}", "run 'session-core status' for details")


class Database:
    """One connection to one archive file, with explicit transactions."""

    def __init__(self, path: str | os.PathLike[str], busy_timeout_ms: int = 30_000) -> None:
        self.path = path = os.fspath(path)
        self._batch_started: float | None = None
        self._deferred: dict[str, list[tuple[object, ...]]] = {}
        _check_file_is_sqlite(path)
        paths.ensure_private_dir(os.path.dirname(path))
        try:
            self.conn = sqlite3.connect(
                path, timeout=busy_timeout_ms / 1000, isolation_level=None
            )
            self.conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            if self.conn.execute("PRAGMA page_count").fetchone()[0] == 0:
                # Only possible before the first table: lets us hand freed pages back.
                self.conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = FULL")
            # Savepoint journals (one per file in a batch) in memory, not in temp files.
            self.conn.execute("PRAGMA temp_store = MEMORY")
            # A cap, not an allocation: large imports stop spilling dirty pages mid-batch.
            self.conn.execute("PRAGMA cache_size = -32768")
            app_id = self.conn.execute("PRAGMA application_id").fetchone()[0]
        except sqlite3.Error as exc:
            raise translate(exc, path) from exc
        if app_id not in (0, APPLICATION_ID):
            self.conn.close()
            raise DatabaseError(
                f"{path} is a SQLite database of another program (application_id {app_id:#x})",
                "point --project at the right folder, or move that file aside",
            )
        for suffix in ("", "-wal", "-shm"):
            paths.make_private_file(path + suffix)

    def close(self) -> None:
        self.conn.close()

    def release_free_pages(self) -> None:
        """Return pages freed by replaced tails and index merges to the file system."""
        try:
            free = self.conn.execute("PRAGMA freelist_count").fetchone()[0]
            if not free:
                return
            self.conn.execute("BEGIN IMMEDIATE")  # one commit, not one per page
            for _ in range(free):  # sqlite3 steps the pragma once: one page per call
                self.conn.execute("PRAGMA incremental_vacuum")
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise translate(exc, self.path) from exc

    def user_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that takes the lock up front (``BEGIN IMMEDIATE``); inside a
        :meth:`bulk` batch, a savepoint, so one failing file does not undo the others."""
        if self._batch_started is not None:
            with self._savepoint():
                yield self.conn
            return
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise translate(exc, self.path) from exc
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except BaseException as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise translate(exc, self.path) from exc
            raise

    @contextmanager
    def _savepoint(self) -> Iterator[None]:
        if not self.conn.in_transaction:  # SQLite rolled the batch back (disk full, ...)
            self._begin_batch()
        marks = {sql: len(rows) for sql, rows in self._deferred.items()}
        self.conn.execute("SAVEPOINT unit")
        try:
            yield
            self.conn.execute("RELEASE unit")
        except BaseException as exc:
            if self.conn.in_transaction:  # SQLite may have rolled back everything already
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK TO unit")
                    self.conn.execute("RELEASE unit")
            for sql, rows in self._deferred.items():  # the unit's deferred rows go too
                del rows[marks.get(sql, 0):]
            if isinstance(exc, sqlite3.Error):
                raise translate(exc, self.path) from exc
            raise

    def executemany_at_commit(self, sql: str, rows: list[tuple[object, ...]]) -> None:
        """Run now, or inside a bulk batch just before it commits.

        For FTS5 inserts: FTS5 writes a new index segment at every savepoint release, so
        deferring gives one segment per batch instead of one per file (and fewer merges).
        """
        if self._batch_started is None:
            self.conn.executemany(sql, rows)
            return
        self._deferred.setdefault(sql, []).extend(rows)

    def _run_deferred(self) -> None:
        for sql, rows in self._deferred.items():
            self.conn.executemany(sql, rows)
        self._deferred.clear()

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Many writes in a row (an import) share transactions of about
        ``BATCH_SECONDS``: one commit (one fsync) per batch instead of per file, while a hook
        waiting for the lock waits no longer than one batch."""
        self._begin_batch()
        try:
            yield
        except BaseException:
            self._batch_started = None
            self._deferred.clear()
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        self._end_batch()

    @property
    def in_bulk(self) -> bool:
        return self._batch_started is not None

    def batch_boundary(self) -> None:
        """Between two units of a bulk write: commit if the batch has held the lock long enough
        or gathered enough deferred rows (memory stays bounded on huge files)."""
        if self._batch_started is not None and (
                time.monotonic() - self._batch_started > BATCH_SECONDS
                or sum(map(len, self._deferred.values())) > MAX_DEFERRED_ROWS):
            self._end_batch()
            self._begin_batch()

    def _begin_batch(self) -> None:
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise translate(exc, self.path) from exc
        self._batch_started = time.monotonic()

    def _end_batch(self) -> None:
        try:
            self._run_deferred()
            self._batch_started = None
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise translate(exc, self.path) from exc

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: one consistent snapshot across several queries."""
        try:
            self.conn.execute("BEGIN")
            yield self.conn
        except sqlite3.Error as exc:
            raise translate(exc, self.path) from exc
        finally:
            if self.conn.in_transaction:
                # A read-only snapshot: the error that matters, if any, is already raised.
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("COMMIT")
