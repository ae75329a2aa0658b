"""The ``checkpoints`` table: named positions in a session's transcript (its file, generation
and byte offset, the last entry's uuid there) with git as it was, for ``session-core branch``.

A row copies no bytes: the archive's frames hold the file losslessly, so the position alone is
enough to cut a branch, even after Claude Code deleted its transcript. Named checkpoints are
kept until deleted; the hooks' automatic ones (``compact``, ``turns``, ``end``) are pruned.
"""

from __future__ import annotations

from ..base.sqlite_driver import sqlite3

TYPE_CHECKING = False  # the name, not typing's: typing stays off the hook path
if TYPE_CHECKING:
    from typing import Any

AUTOMATIC = ("compact", "turns", "end")
"""Reasons the hooks take a checkpoint; ``named`` is the user's."""

_SELECT = ("SELECT c.id, c.name, s.uuid, c.file_id, c.generation, c.offset, c.last_uuid,"
           " c.reason, c.prompts, c.git_branch, c.git_commit, c.git_dirty, c.created_at"
           " FROM checkpoints c JOIN sessions s ON s.id = c.session_id")


class Checkpoint:
    """One row, with its session's uuid."""

    __slots__ = ("checkpoint_id", "created_at", "file_id", "generation", "git_branch",
                 "git_commit", "git_dirty", "last_uuid", "name", "offset", "prompts", "reason",
                 "session_uuid")

    def __init__(self, row: tuple[Any, ...]) -> None:
        (self.checkpoint_id, self.name, self.session_uuid, self.file_id, self.generation,
         self.offset, self.last_uuid, self.reason, self.prompts, self.git_branch,
         self.git_commit, dirty, self.created_at) = row  # _SELECT order
        self.git_dirty: bool | None = None if dirty is None else bool(dirty)

    checkpoint_id: int
    name: str
    session_uuid: str
    file_id: int
    generation: int
    offset: int
    """Bytes of the file's ``generation`` up to the checkpoint (always a line end)."""
    last_uuid: str | None
    reason: str
    prompts: int
    """Prompts of the session at the checkpoint (``turns`` checkpoints count from it)."""
    git_branch: str | None
    git_commit: str | None
    created_at: str

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "session": self.session_uuid, "reason": self.reason,
                "created_at": self.created_at, "offset": self.offset,
                "generation": self.generation, "last_uuid": self.last_uuid,
                "prompts": self.prompts, "git_branch": self.git_branch,
                "git_commit": self.git_commit, "git_dirty": self.git_dirty}


def add(conn: sqlite3.Connection, name: str | None, session_id: int, file_id: int,
        generation: int, offset: int, last_uuid: str | None, reason: str, prompts: int,
        git: tuple[str | None, str | None, bool | None], when: str) -> Checkpoint:
    """A new checkpoint; ``name`` None (an automatic one): ``<reason>-<session>-<n>``, ``n``
    counting the session's automatic checkpoints (1, 2, 3 …; one more than the highest taken,
    so a pruned one's number is never reused). A name that exists already raises
    ``sqlite3.IntegrityError``."""
    branch, commit, dirty = git
    if name is None:
        name = f"{reason}-{_short(conn, session_id)}-{_next_number(conn, session_id)}"
    cursor = conn.execute(
        "INSERT INTO checkpoints(name, session_id, file_id, generation, offset, last_uuid,"
        " reason, prompts, git_branch, git_commit, git_dirty, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (name, session_id, file_id, generation, offset, last_uuid, reason, prompts, branch,
         commit, None if dirty is None else int(dirty), when))
    row_id = cursor.lastrowid
    found = conn.execute(_SELECT + " WHERE c.id = ?", (row_id,)).fetchone()
    return Checkpoint(found)


def _short(conn: sqlite3.Connection, session_id: int) -> str:
    row = conn.execute("SELECT substr(uuid, 1, 8) FROM sessions WHERE id = ?",
                       (session_id,)).fetchone()
    return str(row[0]) if row is not None else str(session_id)


def _next_number(conn: sqlite3.Connection, session_id: int) -> int:
    """One more than the highest number of an automatic name with the session's short id
    (any session's: two sessions may share their first 8 characters, names stay unique)."""
    short = _short(conn, session_id)
    highest = 0
    for (taken,) in conn.execute("SELECT name FROM checkpoints WHERE reason != 'named'"):
        head, _, number = str(taken).rpartition("-")
        if head.split("-", 1)[-1] == short and number.isdigit():
            highest = max(highest, int(number))
    return highest + 1


def by_name(conn: sqlite3.Connection, name: str) -> Checkpoint | None:
    row = conn.execute(_SELECT + " WHERE c.name = ?", (name,)).fetchone()
    return None if row is None else Checkpoint(row)


def listed(conn: sqlite3.Connection, session_id: int | None = None) -> list[Checkpoint]:
    """Every checkpoint (or one session's), oldest first."""
    where, params = (" WHERE c.session_id = ?", (session_id,)) if session_id is not None \
        else ("", ())
    return [Checkpoint(row) for row in conn.execute(
        _SELECT + where + " ORDER BY c.created_at, c.id", params)]


def named_by_session(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """The names of the user's own checkpoints (``reason`` 'named'), per session uuid."""
    found: dict[str, list[str]] = {}
    for uuid, name in conn.execute(
            "SELECT s.uuid, c.name FROM checkpoints c JOIN sessions s ON s.id = c.session_id"
            " WHERE c.reason = 'named' ORDER BY c.created_at, c.id"):
        found.setdefault(str(uuid), []).append(str(name))
    return found


def latest(conn: sqlite3.Connection, session_id: int) -> Checkpoint | None:
    """The session's newest checkpoint, whatever took it."""
    row = conn.execute(_SELECT + " WHERE c.session_id = ? ORDER BY c.created_at DESC, c.id DESC"
                       " LIMIT 1", (session_id,)).fetchone()
    return None if row is None else Checkpoint(row)


def automatic_prompts(conn: sqlite3.Connection, session_id: int) -> int:
    """Prompts at the session's newest automatic checkpoint (0: none yet)."""
    row = conn.execute("SELECT max(prompts) FROM checkpoints WHERE session_id = ?"
                       " AND reason != 'named'", (session_id,)).fetchone()
    return int(row[0] or 0)


def automatic(conn: sqlite3.Connection, session_id: int) -> list[tuple[int, str]]:
    """(id, created_at) of the session's automatic checkpoints, newest first: what pruning
    chooses from."""
    return [(int(i), str(at)) for i, at in conn.execute(
        "SELECT id, created_at FROM checkpoints WHERE session_id = ? AND reason != 'named'"
        " ORDER BY created_at DESC, id DESC", (session_id,))]


def delete_ids(conn: sqlite3.Connection, ids: list[int]) -> None:
    conn.executemany("DELETE FROM checkpoints WHERE id = ?", [(i,) for i in ids])


def delete_session(conn: sqlite3.Connection, session_id: int) -> int:
    """The session's checkpoints (it is being forgotten)."""
    return conn.execute("DELETE FROM checkpoints WHERE session_id = ?", (session_id,)).rowcount
