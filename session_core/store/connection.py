"""The archive's SQLite connection: opened the one way that is safe under concurrent hooks.

WAL so readers never block the writer, ``busy_timeout`` set before anything else touches the file,
and ``BEGIN IMMEDIATE`` for every write: with plain ``BEGIN`` two read-then-write transactions
deadlock on the lock upgrade and one fails with "database is locked" regardless of the timeout.
``synchronous=FULL``: a committed save survives power loss (see README, "Durability").

Transactions are small context-manager classes rather than ``@contextmanager`` generators:
``contextlib`` is kept off the hook path (bench/README.md, the import ledger).
"""

from __future__ import annotations

import os
import time

from ..base import locations
from ..base.errors import RECOVER_HINT, BusyError, DamagedError, DatabaseError
from ..base.fs import ensure_private_dir, make_private_file, sqlite_uri
from ..base.sqlite_driver import sqlite3

TYPE_CHECKING = False  # the name, not typing's: typing stays off the hook path
if TYPE_CHECKING:
    from types import TracebackType

APPLICATION_ID = 0x53434F52  # "SCOR"
BATCH_SECONDS = 0.5
MAX_DEFERRED_ROWS = 50_000
MAX_DEFERRED_CHARS = 16 << 20
"""Deferred text one file of a bulk write may hold before its rows are written: a 300 MB
transcript's index rows (55 M characters) waited for its end and took the import past 200 MB."""
SQLITE_HEADER = b"SQLite format 3\x00"


def _check_file_is_sqlite(path: str, young_empty_is_new: bool) -> None:
    """Refuse a file that is not SQLite before sqlite3 guesses. A 0-byte file counts as new
    (a process killed between creating and writing it), unless backups or quarantined copies
    say there was an archive here: then its contents are lost, not yet written."""
    try:
        with open(path, "rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise DatabaseError(f"cannot read archive {path}: {exc}", "check its permissions") from exc
    if not header and not (young_empty_is_new and not _settled(path)) \
            and locations.earlier_copies(path):
        raise DamagedError(f"the archive {path} is damaged: it is empty (0 bytes), and backups"
                            " of it exist", RECOVER_HINT)
    if header and header != SQLITE_HEADER:
        raise DamagedError(
            f"the archive {path} is damaged: it is not a SQLite database (overwritten?)",
            RECOVER_HINT)


def _out_of_space(exc: sqlite3.Error) -> bool:
    """What opening a WAL database says when its ``-shm`` cannot be created (a full disk)."""
    text = str(exc)
    return "disk I/O" in text or "full" in text or "unable to open" in text


def _reader_without_shm(path: str) -> sqlite3.Connection:
    """A reader that needs no ``-shm`` file, so a full disk can still be read. With nothing in
    the WAL, the file is read as immutable; with a WAL to apply, in exclusive locking mode
    (SQLite then keeps the WAL index in memory; writers wait while it reads)."""
    uri = sqlite_uri(path)
    try:
        wal = os.path.getsize(path + "-wal")
    except OSError:
        wal = 0
    if wal:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None)
        conn.execute("PRAGMA locking_mode = EXCLUSIVE")
    else:
        conn = sqlite3.connect(uri + "?mode=ro&immutable=1", uri=True, isolation_level=None)
    conn.text_factory = decode_leniently
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    return conn


NEW_FILE_GRACE_S = 10.0
"""An empty archive younger than this is one another process is creating (SQLite writes its
first page when the creating transaction commits), not lost contents."""


def _settled(path: str) -> bool:
    try:
        return time.time() - os.stat(path).st_mtime > NEW_FILE_GRACE_S
    except OSError:
        return False


def open_read_only(path: str, immutable: bool = False) -> sqlite3.Connection:
    """A connection that never creates, upgrades or writes the file: checks and listings of
    archives and backups, which must leave a damaged file as it was found and work on a full
    disk. ``immutable``: a file nothing writes (a backup): not even ``-wal``/``-shm`` files
    appear beside it."""
    uri = sqlite_uri(path)
    flags = "?mode=ro&immutable=1" if immutable else "?mode=ro"
    conn = sqlite3.connect(uri + flags, uri=True, isolation_level=None)
    conn.text_factory = decode_leniently  # damage must be reported, not crash the check
    if not immutable:
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError as exc:
            if not _out_of_space(exc):
                raise
            conn.close()
            return _reader_without_shm(path)
    return conn


READ_ERRORS = (sqlite3.Error, UnicodeDecodeError)
"""What reading a damaged file may raise: SQLite's errors, and its error messages or text
values that damage made invalid UTF-8 (decoded by ``sqlite3`` before we see them)."""


def decode_leniently(raw: bytes) -> str:
    """Text of a file that may be damaged: a flipped bit is a finding, not a crash."""
    return raw.decode("utf-8", "replace")


def translate(exc: sqlite3.Error, path: str) -> DatabaseError:
    """Turn sqlite3's errors into ours, with a hint a user can act on."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return BusyError(
            f"the archive {path} stayed locked by another writer past the busy timeout",
            "retry in a moment; raise 'busy_timeout_ms' in .claude/session-core.json if it recurs",
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text \
            or "Could not decode" in text:  # a value of the wrong type: a flipped bit
        return DamagedError(f"the archive {path} is damaged ({text})", RECOVER_HINT)
    if "disk" in text or "full" in text or "readonly" in text:
        return DatabaseError(f"cannot write the archive {path} ({text}; is the disk full?)",
                             "free disk space; nothing is lost: the next save catches up")
    return DatabaseError(f"archive {path}: {text}", "run 'session-core status' for details")


class Database:
    """One connection to one archive file, with explicit transactions."""

    def __init__(self, path: str | os.PathLike[str], busy_timeout_ms: int = 30_000,
                 young_empty_is_new: bool = False) -> None:
        """``young_empty_is_new`` (hooks): an empty file made seconds ago is an archive another
        hook is creating, not one whose contents were lost."""
        self.path = path = os.fspath(path)
        self._batch_started: float | None = None
        self._held = False
        self._deferred: dict[str, list[tuple[object, ...]]] = {}
        self._unit_marks: dict[str, int] | None = None
        """Where the deferred rows of the bulk write's current file (its savepoint) begin."""
        self._unit_chars = 0
        _check_file_is_sqlite(path, young_empty_is_new)
        ensure_private_dir(os.path.dirname(path))
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
            if not _out_of_space(exc) or not os.path.exists(path):
                raise translate(exc, path) from exc
            self.conn = _reader_without_shm(path)  # a full disk: reading still works
            app_id = self.conn.execute("PRAGMA application_id").fetchone()[0]
        if app_id not in (0, APPLICATION_ID):
            self.conn.close()
            raise DatabaseError(
                f"{path} is a SQLite database of another program (application_id {app_id:#x})",
                "point --project at the right folder, or move that file aside",
            )
        for suffix in ("", "-wal", "-shm"):
            make_private_file(path + suffix)

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

    def shrink(self) -> None:
        """Give back to the file system every page deletes freed (``cleanup``): page by page
        on an archive made with incremental auto-vacuum (every one this code creates), else
        one ``VACUUM``, which also switches an older archive to incremental so that the next
        shrink is cheap. The file itself gets shorter at the next :meth:`checkpoint`."""
        try:
            if self.conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2:  # INCREMENTAL
                self.release_free_pages()
                return
            self.conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
            self.conn.execute("VACUUM")  # waits for the write lock like any writer
        except sqlite3.Error as exc:
            raise translate(exc, self.path) from exc

    def used_bytes(self) -> int:
        """Bytes of the file that hold data: its pages less the free ones."""
        pages, free, size = (self.conn.execute(f"PRAGMA {name}").fetchone()[0]
                             for name in ("page_count", "freelist_count", "page_size"))
        return int((pages - free) * size)

    def erase_deleted(self) -> None:
        """From now on, what this connection deletes is overwritten with zeros, not only
        unlinked (``forget``: a secret must leave the file's bytes, free pages included)."""
        self.conn.execute("PRAGMA secure_delete = ON")

    def checkpoint(self) -> bool:
        """Everything in the write-ahead log into the database file, and the log emptied: old
        page images in it are gone too. False when a reader's snapshot kept part of it (the
        next checkpoint, any hook's commit, finishes it)."""
        try:
            busy = self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except sqlite3.Error as exc:
            raise translate(exc, self.path) from exc
        return not busy

    def hold_commits(self) -> None:
        """From now on, writes join one transaction (each a savepoint of it, so a failing one
        still rolls back alone) until :meth:`commit_held`: a hook event commits, and syncs,
        once, however many of its handlers write."""
        self._held = True

    def commit_held(self) -> None:
        if self.conn.in_transaction:
            try:
                self.conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise translate(exc, self.path) from exc

    def end_hold(self, commit: bool) -> None:
        """Stop holding commits (:meth:`hold_commits`): what was held is committed, or
        (``commit`` False) rolled back whole; writes take one transaction each again."""
        try:
            if commit:
                self.commit_held()
            elif self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
        finally:
            self._held = False

    def set_busy_timeout(self, ms: int) -> None:
        """How long the next lock wait may last (a hook: no longer than its budget allows)."""
        try:
            self.conn.execute(f"PRAGMA busy_timeout = {int(ms)}")
        except sqlite3.Error as exc:
            raise translate(exc, self.path) from exc

    def user_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def write(self) -> _Write:
        """``with db.write() as conn:`` a write transaction that takes the lock up front
        (``BEGIN IMMEDIATE``); inside a :meth:`bulk` batch, a savepoint, so one failing file
        does not undo the others."""
        return _Write(self)

    def savepoint(self) -> _Savepoint:
        """``with db.savepoint():`` inside a write: a part that may fail on its own (the
        digest of an ingest) without costing the rest of the transaction."""
        return _Savepoint(self, keep_deferred=True)

    def read(self) -> _Read:
        """``with db.read() as conn:`` one consistent snapshot across several queries."""
        return _Read(self)

    def bulk(self) -> _Bulk:
        """``with db.bulk():`` many writes in a row (an import) share transactions of about
        ``BATCH_SECONDS``: one commit (one fsync) per batch instead of per file, while a hook
        waiting for the lock waits no longer than one batch."""
        return _Bulk(self)

    def executemany_at_commit(self, sql: str, rows: list[tuple[object, ...]]) -> None:
        """Run now, or inside a bulk batch just before it commits.

        For FTS5 inserts: FTS5 writes a new index segment at every savepoint release, so
        deferring gives one segment per batch instead of one per file (and fewer merges).
        """
        if self._batch_started is None:
            self.conn.executemany(sql, rows)
            return
        self._deferred.setdefault(sql, []).extend(rows)
        self._unit_chars += sum(len(v) for row in rows for v in row if isinstance(v, str))
        if self._unit_chars > MAX_DEFERRED_CHARS and self._unit_marks is not None:
            self._write_unit_rows()

    def _write_unit_rows(self) -> None:
        """The current file's deferred rows, written now: inside its savepoint, so a rollback
        of the file still takes them back; earlier files' rows wait for the commit."""
        marks = self._unit_marks or {}
        for sql, rows in self._deferred.items():
            start = marks.get(sql, 0)
            if len(rows) > start:
                self.conn.executemany(sql, rows[start:])
                del rows[start:]
        self._unit_chars = 0

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
        if not self.conn.in_transaction:  # SQLite rolled the batch back: nothing to commit
            self._deferred.clear()
            self._batch_started = None
            return
        try:
            for sql, rows in self._deferred.items():
                self.conn.executemany(sql, rows)
            self._deferred.clear()
            self._batch_started = None
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise translate(exc, self.path) from exc

    def _abandon_batch(self) -> None:
        self._batch_started = None
        self._deferred.clear()
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")


class _Write:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.inner: _Savepoint | None = None

    def __enter__(self) -> sqlite3.Connection:
        db = self.db
        if db.in_bulk or db._held:
            self.inner = _Savepoint(db, keep_deferred=False)
            self.inner.__enter__()
            return db.conn
        try:
            db.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise translate(exc, db.path) from exc
        return db.conn

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self.inner is not None:
            self.inner.__exit__(kind, error, trace)
            return
        conn = self.db.conn
        try:
            if kind is None:
                conn.execute("COMMIT")
                return
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise translate(exc, self.db.path) from exc
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if isinstance(error, sqlite3.Error):
            raise translate(error, self.db.path) from error


class _Savepoint:
    """A unit that rolls back alone. ``keep_deferred=False`` (a file of a bulk batch): its
    deferred rows go with it; True (a part inside one ingest): they are not its own."""

    def __init__(self, db: Database, keep_deferred: bool) -> None:
        self.db, self.keep_deferred = db, keep_deferred
        self.marks: dict[str, int] = {}

    def __enter__(self) -> None:
        db = self.db
        if not db.conn.in_transaction:
            if db.in_bulk:  # SQLite rolled the batch back (disk full, ...): its rows too
                db._deferred.clear()
                db._begin_batch()
            elif db._held:  # the event's first write takes the lock for the event
                try:
                    db.conn.execute("BEGIN IMMEDIATE")
                except sqlite3.Error as exc:
                    raise translate(exc, db.path) from exc
        self.marks = {sql: len(rows) for sql, rows in db._deferred.items()}
        try:
            db.conn.execute("SAVEPOINT unit")
        except sqlite3.Error as exc:
            raise translate(exc, db.path) from exc
        if not self.keep_deferred:  # a file of a bulk write: its rows may be written early
            db._unit_marks, db._unit_chars = self.marks, 0

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        db, conn = self.db, self.db.conn
        if not self.keep_deferred:
            db._unit_marks = None
        if kind is None:
            try:
                conn.execute("RELEASE unit")
            except sqlite3.Error as exc:
                raise translate(exc, db.path) from exc
            return
        if conn.in_transaction:  # SQLite may have rolled back everything already
            try:
                conn.execute("ROLLBACK TO unit")
                conn.execute("RELEASE unit")
            except sqlite3.Error:
                pass  # the error that matters is the one being raised
        if not self.keep_deferred:
            for sql, rows in db._deferred.items():
                del rows[self.marks.get(sql, 0):]
        if db.in_bulk and not conn.in_transaction:
            # SQLite rolled back the whole batch, earlier files too: their waiting index rows
            # would be written under the row ids the next files' entries take
            db._deferred.clear()
        if isinstance(error, sqlite3.Error):
            raise translate(error, db.path) from error


class _Read:
    def __init__(self, db: Database) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        try:
            self.db.conn.execute("BEGIN")
        except sqlite3.Error as exc:
            raise translate(exc, self.db.path) from exc
        return self.db.conn

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        conn = self.db.conn
        if conn.in_transaction:
            try:  # noqa: SIM105 - contextlib is kept off the hook path
                conn.execute("COMMIT")  # a read-only snapshot: nothing to lose
            except sqlite3.Error:
                pass  # the error that matters, if any, is the one being raised
        if isinstance(error, sqlite3.Error):
            raise translate(error, self.db.path) from error


class _Bulk:
    def __init__(self, db: Database) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db._begin_batch()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if kind is None:
            self.db._end_batch()
        else:
            self.db._abandon_batch()
