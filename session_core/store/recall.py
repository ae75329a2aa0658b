"""The ``file_changes`` and ``error_fixes`` tables: which earlier session changed a file, and
what fixed an error seen before. Written by the digest fold as it reads the transcripts; read
on the hook path before an edit and after a failed command, so every read is one indexed
lookup on the primary key's first column."""

from __future__ import annotations

from ..base.fs import sqlite_uri
from ..base.sqlite_driver import sqlite3

TYPE_CHECKING = False  # the name, not typing's: typing stays off the hook path
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

READ_ERRORS = (sqlite3.Error, UnicodeDecodeError)
"""What reading an archive that is damaged, locked or of an older schema may raise."""


def open_reader(path: str) -> sqlite3.Connection:
    """The archive read-only, waiting a quarter of a second at most for a lock (a read in WAL
    mode waits only for a checkpoint's or a recovery's): the recall hooks' connection."""
    conn: sqlite3.Connection = sqlite3.connect(sqlite_uri(path) + "?mode=ro", uri=True,
                                               timeout=0.25, isolation_level=None)
    return conn


class Change:
    __slots__ = ("action", "at", "edits", "note", "path", "request", "session_uuid")

    def __init__(self, row: tuple[Any, ...]) -> None:
        (self.path, self.session_uuid, self.at, self.action, self.edits, self.request,
         self.note) = row

    path: str
    session_uuid: str
    at: str | None
    action: str
    edits: int
    request: str | None
    note: str | None
    """What Claude said as it made the change (its text just before the edit)."""


class Fix:
    __slots__ = ("at", "error", "fix", "session_uuid")

    def __init__(self, row: tuple[Any, ...]) -> None:
        self.session_uuid, self.at, self.error, self.fix = row

    session_uuid: str
    at: str | None
    error: str
    fix: str


def save_changes(conn: sqlite3.Connection, session_id: int, file_id: int,
                 changes: Iterable[tuple[str, str | None, str, int, str | None, str | None]]
                 ) -> None:
    """``(path, at, action, edits, request, note)`` rows of one transcript; its latest change
    of a path replaces its earlier one (``edits`` is the transcript's count so far, not an
    increment: folding the same lines again writes the same rows)."""
    conn.executemany(
        "INSERT INTO file_changes(path, session_id, file_id, at, action, edits, request, note)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(path, session_id, file_id) DO UPDATE SET"
        " at = excluded.at, action = excluded.action, edits = excluded.edits,"
        " request = excluded.request, note = excluded.note",
        [(path, session_id, file_id, at, action, edits, request, note)
         for path, at, action, edits, request, note in changes])


def save_fixes(conn: sqlite3.Connection, session_id: int,
               fixes: Iterable[tuple[str, str | None, str, str]]) -> None:
    """``(signature, at, error, fix)`` rows; a session's latest fix of a signature wins."""
    conn.executemany(
        "INSERT INTO error_fixes(signature, session_id, at, error, fix) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT(signature, session_id) DO UPDATE SET at = excluded.at,"
        " error = excluded.error, fix = excluded.fix",
        [(signature, session_id, at, error, fix) for signature, at, error, fix in fixes])


def changes_of(conn: sqlite3.Connection, path: str, other_than: str | None = None,
               limit: int = 50) -> list[Change]:
    """Sessions that changed ``path``, newest first (``other_than``: not that session).

    The newest rows are walked by the (path, at) index until ``limit`` sessions are found, so
    a note before an edit costs a few lookups even when 10,000 sessions changed the file (a
    GROUP BY over all of them cost the recall hook ~8 ms there)."""
    row = conn.execute("SELECT id FROM sessions WHERE uuid = ?", (other_than,)).fetchone() \
        if other_than is not None else None
    skip = row[0] if row is not None else None
    seen: set[int] = set()
    found: list[Change] = []
    for (session_id,) in conn.execute("SELECT session_id FROM file_changes WHERE path = ?"
                                      " ORDER BY at DESC", (path,)):
        if session_id == skip or session_id in seen:
            continue
        seen.add(session_id)
        # Its latest change (SQLite takes the bare columns from the row of max(at)) and the
        # edits of all its transcripts (its own and its subagents'); none for a row whose
        # session is gone (forgotten meanwhile, or an orphan).
        row = conn.execute(
            "SELECT c.path, s.uuid, max(c.at), c.action, sum(c.edits), c.request, c.note"
            " FROM file_changes c JOIN sessions s ON s.id = c.session_id"
            " WHERE c.path = ? AND c.session_id = ? GROUP BY c.session_id",
            (path, session_id)).fetchone()
        if row is not None:
            found.append(Change(row))
            if len(found) >= limit:
                break
    return found


def paths_like(conn: sqlite3.Connection, tail: str, limit: int = 20) -> list[str]:
    """Archived paths ending in ``/tail`` (or equal to it): ``blame`` of a relative name."""
    escaped = tail.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return [row[0] for row in conn.execute(
        "SELECT DISTINCT path FROM file_changes WHERE path = ? OR path LIKE ? ESCAPE '\\'"
        " ORDER BY path LIMIT ?", (tail, f"%/{escaped}", limit))]


def fix_of(conn: sqlite3.Connection, signature: str, other_than: str | None) -> Fix | None:
    """The newest fix of an error with this signature, from another session."""
    row = conn.execute(
        "SELECT s.uuid, f.at, f.error, f.fix FROM error_fixes f JOIN sessions s"
        " ON s.id = f.session_id WHERE f.signature = ? AND s.uuid IS NOT ?"
        " ORDER BY f.at DESC LIMIT 1", (signature, other_than)).fetchone()
    return None if row is None else Fix(row)


class ChangedFile:
    __slots__ = ("edits", "last_at", "path", "sessions")

    def __init__(self, row: tuple[Any, ...]) -> None:
        self.path, self.edits, self.sessions, self.last_at = row

    path: str
    edits: int
    """Successful edits, writes, moves and deletes of it, subagents' included."""
    sessions: int
    last_at: str | None


def most_changed(conn: sqlite3.Connection, since: str | None = None,
                 session_id: int | None = None, limit: int = 20) -> list[ChangedFile]:
    """The files changed most often, from ``since`` on (by the time of each transcript's last
    change of a file: its edits are counted per transcript) and by one session or all."""
    return [ChangedFile(row) for row in conn.execute(
        "SELECT path, sum(edits), count(DISTINCT session_id), max(at) FROM file_changes"
        " WHERE (?1 IS NULL OR at >= ?1) AND (?2 IS NULL OR session_id = ?2)"
        " GROUP BY path ORDER BY sum(edits) DESC, max(at) DESC, path LIMIT ?3",
        (since, session_id, limit))]


def delete_session(conn: sqlite3.Connection, session_id: int) -> None:
    """What a session changed and fixed (derived rows: they go with the session)."""
    conn.execute("DELETE FROM file_changes WHERE session_id = ?", (session_id,))
    conn.execute("DELETE FROM error_fixes WHERE session_id = ?", (session_id,))
