"""The ``branches`` table: sessions session-core wrote itself, each linked to where it came
from. A ``branch`` is a session cut at a checkpoint of ``origin_uuid``; a ``merge`` continues
``origin_uuid`` (the target): a copy of it whose last message is a note of what
``merged_uuid`` (a branch) found. ``cut_bytes``: how much of the written transcript was copied
(a merge's note starts there); what follows (after the note) is its own."""

from __future__ import annotations

from ..base.sqlite_driver import sqlite3

TYPE_CHECKING = False  # the name, not typing's: typing stays off the hook path
if TYPE_CHECKING:
    from typing import Any

_SELECT = ("SELECT session_uuid, kind, origin_uuid, checkpoint, merged_uuid, name, worktree,"
           " cut_bytes, created_at FROM branches")


class Link:
    __slots__ = ("checkpoint", "created_at", "cut_bytes", "kind", "merged_uuid", "name",
                 "origin_uuid", "session_uuid", "worktree")

    def __init__(self, row: tuple[Any, ...]) -> None:
        (self.session_uuid, self.kind, self.origin_uuid, self.checkpoint, self.merged_uuid,
         self.name, self.worktree, self.cut_bytes, self.created_at) = row  # _SELECT order

    session_uuid: str
    kind: str
    origin_uuid: str
    checkpoint: str | None
    merged_uuid: str | None
    name: str | None
    worktree: str | None
    cut_bytes: int
    created_at: str

    def as_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in sorted(self.__slots__)}


def add(conn: sqlite3.Connection, link: Link) -> None:
    conn.execute("INSERT INTO branches(session_uuid, kind, origin_uuid, checkpoint, merged_uuid,"
                 " name, worktree, cut_bytes, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
                 (link.session_uuid, link.kind, link.origin_uuid, link.checkpoint,
                  link.merged_uuid, link.name, link.worktree, link.cut_bytes, link.created_at))


def of_session(conn: sqlite3.Connection, session_uuid: str) -> Link | None:
    """Where this session came from, if session-core wrote it."""
    row = conn.execute(_SELECT + " WHERE session_uuid = ?", (session_uuid,)).fetchone()
    return None if row is None else Link(row)


def from_origin(conn: sqlite3.Connection, origin_uuid: str) -> list[Link]:
    """The branches and merges made from this session, oldest first."""
    return [Link(row) for row in conn.execute(
        _SELECT + " WHERE origin_uuid = ? ORDER BY created_at", (origin_uuid,))]


def named(conn: sqlite3.Connection, name: str) -> list[Link]:
    """The links whose ``--name`` is ``name``, oldest first (a name need not be unique)."""
    return [Link(row) for row in conn.execute(
        _SELECT + " WHERE name = ? ORDER BY created_at", (name,))]


def every(conn: sqlite3.Connection) -> list[Link]:
    """Every link, oldest first."""
    return [Link(row) for row in conn.execute(_SELECT + " ORDER BY created_at")]


def delete_session(conn: sqlite3.Connection, session_uuid: str) -> None:
    """The session's own link (it is being forgotten); links naming it as origin keep the id."""
    conn.execute("DELETE FROM branches WHERE session_uuid = ?", (session_uuid,))
