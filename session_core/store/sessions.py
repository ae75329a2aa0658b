"""The ``sessions`` table: one row per session id ever seen, with what its records said of it
(working folder, branch, Claude Code version, first and last time, title)."""

from __future__ import annotations

from ..base.errors import NotFoundError
from ..base.sqlite_driver import sqlite3

TYPE_CHECKING = False  # the name, not typing's: typing stays off the hook path
if TYPE_CHECKING:
    from typing import Any

_COLUMNS = "s.id, s.uuid, s.cwd, s.git_branch, s.cc_version, s.first_ts, s.last_ts, s.title"


class SessionRow:
    __slots__ = ("cc_version", "cwd", "first_ts", "git_branch", "last_ts", "session_id",
                 "title", "uuid")

    def __init__(self, row: tuple[Any, ...]) -> None:
        (self.session_id, self.uuid, self.cwd, self.git_branch, self.cc_version, self.first_ts,
         self.last_ts, self.title) = row  # _COLUMNS order

    session_id: int
    uuid: str
    cwd: str | None
    git_branch: str | None
    cc_version: str | None
    first_ts: str | None
    last_ts: str | None
    title: str | None


def ensure(conn: sqlite3.Connection, session_uuid: str) -> int:
    """The session's row id, creating the row on first sight."""
    conn.execute("INSERT OR IGNORE INTO sessions(uuid) VALUES (?)", (session_uuid,))
    row = conn.execute("SELECT id FROM sessions WHERE uuid = ?", (session_uuid,)).fetchone()
    return int(row[0])


def id_of(conn: sqlite3.Connection, session_uuid: str) -> int | None:
    row = conn.execute("SELECT id FROM sessions WHERE uuid = ?", (session_uuid,)).fetchone()
    return None if row is None else int(row[0])


def row_of(conn: sqlite3.Connection, session_uuid: str) -> SessionRow | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM sessions s WHERE uuid = ?",
                       (session_uuid,)).fetchone()
    return None if row is None else SessionRow(row)


def learn(conn: sqlite3.Connection, session_id: int, first_ts: str | None, last_ts: str | None,
          cwd: str | None, git_branch: str | None, cc_version: str | None,
          title: str | None) -> None:
    """Merge what a batch of records said: the time span widens, the newest folder, branch and
    version win, the first title stays."""
    conn.execute(
        "UPDATE sessions SET"
        " first_ts = CASE WHEN first_ts IS NULL OR first_ts > ?1 THEN ?1 ELSE first_ts END,"
        " last_ts = CASE WHEN last_ts IS NULL OR last_ts < ?2 THEN ?2 ELSE last_ts END,"
        " cwd = coalesce(?3, cwd), git_branch = coalesce(?4, git_branch),"
        " cc_version = coalesce(?5, cc_version), title = coalesce(title, ?6)"
        " WHERE id = ?7",
        (first_ts, last_ts, cwd, git_branch, cc_version, title, session_id))


def absorb(conn: sqlite3.Connection, old: int, new: int) -> None:
    """``new`` takes what ``old`` (a provisional row) knew, then ``old`` goes if nothing of it
    is left in ``entries``."""
    conn.execute(
        "UPDATE sessions SET"
        " first_ts = CASE WHEN sessions.first_ts IS NULL OR sessions.first_ts > o.first_ts"
        " THEN o.first_ts ELSE sessions.first_ts END,"
        " last_ts = CASE WHEN sessions.last_ts IS NULL OR sessions.last_ts < o.last_ts"
        " THEN o.last_ts ELSE sessions.last_ts END,"
        " cwd = coalesce(sessions.cwd, o.cwd), git_branch = coalesce(sessions.git_branch,"
        " o.git_branch), cc_version = coalesce(sessions.cc_version, o.cc_version),"
        " title = coalesce(o.title, sessions.title)"
        " FROM (SELECT * FROM sessions WHERE id = ?) AS o WHERE sessions.id = ?",
        (old, new),
    )
    conn.execute("DELETE FROM sessions WHERE id = ? AND NOT EXISTS (SELECT 1 FROM entries"
                 " WHERE session_id = ?1)", (old,))


def resolve(conn: sqlite3.Connection, ref: str) -> SessionRow:
    """A session by full id, by the ``--name`` of a branch session-core wrote, or by unique
    prefix (as git does for commits), in that order: a name is meant, a prefix may be a
    coincidence."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM sessions s WHERE uuid = ? OR uuid LIKE ? ESCAPE '\\' LIMIT 3",
        (ref, ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"),
    ).fetchall()
    found = [SessionRow(row) for row in rows]
    exact = [s for s in found if s.uuid == ref]
    if exact:
        return exact[0]
    from .branches import named

    links = named(conn, ref) if ref else []
    if len(links) > 1:
        raise NotFoundError(f"'{ref}' names several branches: "
                            + ", ".join(link.session_uuid for link in links),
                            "give the session id instead")
    row = row_of(conn, links[0].session_uuid) if links else None
    if row is not None:
        return row
    if len(found) == 1 and ref:
        return found[0]
    if not found:
        from .forgotten import matching

        if matching(conn, ref):
            raise NotFoundError(f"session '{ref}' was forgotten ('session-core forget')",
                                f"'session-core forget --undo {ref}' brings it back")
        raise NotFoundError(f"no session '{ref}' in this archive", "run 'session-core list'")
    raise NotFoundError(f"'{ref}' matches several sessions", "give more of the session id")


def with_files(conn: sqlite3.Connection) -> list[SessionRow]:
    """Sessions that have a file of their own, newest activity first."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM sessions s WHERE EXISTS (SELECT 1 FROM files f"
        " WHERE f.session_id = s.id) ORDER BY coalesce(s.last_ts, '') DESC, s.uuid")
    return [SessionRow(row) for row in rows]


_NOT_FORGOTTEN = "NOT EXISTS (SELECT 1 FROM forgotten WHERE forgotten.uuid = s.uuid)"
"""A backup restored by a hook may still hold a session forgotten since (its tombstone is put
back at once, the rows go at the next command): no new session is told about it meanwhile."""


_NOT_AN_UNTOUCHED_COPY = (
    "NOT EXISTS (SELECT 1 FROM branches b WHERE b.session_uuid = s.uuid AND NOT EXISTS ("
    "SELECT 1 FROM entries e JOIN files f ON f.id = e.file_id WHERE e.session_id = s.id"
    " AND f.kind = 'session' AND e.generation = f.generation"
    " AND e.role IN ('user', 'assistant') AND e.offset >= b.cut_bytes + (b.kind = 'merge')))")
"""A session session-core wrote (a branch, a merge: ``store.branches``) that nobody resumed:
nothing of the conversation past what was copied (a merge's note, its one line more, is
session-core's too). Its last request is a copy or that note, never work of its own: no new
session is told about it as the one before."""


def recent_with_prompt(conn: sqlite3.Connection, other_than: str, since: str,
                       limit: int) -> list[SessionRow]:
    """Sessions other than ``other_than`` active since ``since`` (or, if none was, the most
    recent one) with a transcript of their own and a prompt in it, newest first: those a new
    session may be told about (a copy session-core wrote and nobody resumed is not)."""
    query = (f"SELECT {_COLUMNS} FROM sessions s WHERE s.uuid != ? AND s.last_ts IS NOT NULL"
             f" AND {_NOT_FORGOTTEN} AND {_NOT_AN_UNTOUCHED_COPY}"
             " AND EXISTS (SELECT 1 FROM files f WHERE f.session_id = s.id"
             " AND f.kind = 'session')"
             " AND EXISTS (SELECT 1 FROM entries e WHERE e.session_id = s.id"
             " AND e.kind = 'prompt')")
    rows = conn.execute(query + " AND s.last_ts >= ? ORDER BY s.last_ts DESC LIMIT ?",
                        (other_than, since, limit)).fetchall()
    if not rows:
        rows = conn.execute(query + " ORDER BY s.last_ts DESC LIMIT 1", (other_than,)).fetchall()
    return [SessionRow(row) for row in rows]


def latest_with_prompt(conn: sqlite3.Connection, other_than: str) -> SessionRow | None:
    """The most recent session, other than ``other_than``, with a transcript of its own and a
    prompt in it: the one a new session is told about."""
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM sessions s WHERE s.uuid != ? AND s.last_ts IS NOT NULL"
        f" AND {_NOT_FORGOTTEN}"
        " AND EXISTS (SELECT 1 FROM files f WHERE f.session_id = s.id AND f.kind = 'session')"
        " AND EXISTS (SELECT 1 FROM entries e WHERE e.session_id = s.id AND e.kind = 'prompt')"
        " ORDER BY s.last_ts DESC LIMIT 1", (other_than,)).fetchone()
    return None if row is None else SessionRow(row)



def delete(conn: sqlite3.Connection, session_id: int) -> None:
    """The session's row (everything pointing at it is deleted first)."""
    conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
