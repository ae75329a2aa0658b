"""The ``forgotten`` table: tombstones of sessions removed on purpose (``session-core forget``),
so that neither ``import`` nor a hook's catch-up archives them again."""

from __future__ import annotations

from ..base.sqlite_driver import sqlite3

UNLESS_FORGOTTEN = " WHERE NOT EXISTS (SELECT 1 FROM forgotten WHERE uuid = ?)"
"""Ends an ``INSERT … SELECT`` of a row keyed by a session id (given once more, last): the rows
a hook writes from its payload alone (a prompt, a reply, the git state) and a recovery's merge
from an old backup never bring a forgotten session back. (A trigger would do the same, but it
grows the schema past its first pages, where a damaged file can still be salvaged.)"""


def add(conn: sqlite3.Connection, session_uuid: str, when: str) -> None:
    conn.execute("INSERT INTO forgotten(uuid, forgotten_at) VALUES (?, ?)"
                 " ON CONFLICT(uuid) DO UPDATE SET forgotten_at = excluded.forgotten_at",
                 (session_uuid, when))


def remove(conn: sqlite3.Connection, session_uuid: str) -> bool:
    """Lift a tombstone; False if there was none."""
    return conn.execute("DELETE FROM forgotten WHERE uuid = ?", (session_uuid,)).rowcount > 0


def is_forgotten(conn: sqlite3.Connection, session_uuid: str) -> bool:
    return conn.execute("SELECT 1 FROM forgotten WHERE uuid = ?",
                        (session_uuid,)).fetchone() is not None


def matching(conn: sqlite3.Connection, ref: str) -> list[tuple[str, str]]:
    """``(uuid, forgotten_at)`` of the tombstones whose id is ``ref`` or starts with it."""
    rows = conn.execute("SELECT uuid, forgotten_at FROM forgotten WHERE uuid = ?"
                        " OR substr(uuid, 1, length(?)) = ? ORDER BY uuid", (ref, ref, ref))
    return [(str(u), str(at)) for u, at in rows]
