"""The ``chat_turns`` table: the prompt and the last reply of each turn as the hooks saw them
(zstd-compressed), so a transcript that lags, is deleted or never written loses nothing."""

from __future__ import annotations

from ..base.sqlite_driver import sqlite3
from . import codec
from .forgotten import UNLESS_FORGOTTEN


def add(conn: sqlite3.Connection, session_uuid: str, prompt_id: str | None, role: str,
        when: str, text: str, level: int) -> None:
    raw = text.encode("utf-8", "replace")
    conn.execute(
        "INSERT INTO chat_turns(session_uuid, prompt_id, role, at, text, text_len)"
        " SELECT ?, ?, ?, ?, ?, ?" + UNLESS_FORGOTTEN,
        (session_uuid, prompt_id, role, when, codec.compress(raw, level), len(raw),
         session_uuid))


def add_unless_present(conn: sqlite3.Connection, session_uuid: str, prompt_id: str | None,
                       role: str, when: str, text: str, level: int) -> int:
    """A spooled turn, unless a drain that died before emptying the spool added it already;
    returns 1 if it was added."""
    raw = text.encode("utf-8", "replace")
    if conn.execute("SELECT 1 FROM chat_turns WHERE session_uuid = ? AND role = ? AND at = ?"
                    " AND text_len = ?", (session_uuid, role, when, len(raw))).fetchone():
        return 0
    add(conn, session_uuid, prompt_id, role, when, text, level)
    return 1


def count(conn: sqlite3.Connection, session_uuid: str) -> int:
    return int(conn.execute("SELECT count(*) FROM chat_turns WHERE session_uuid = ?",
                            (session_uuid,)).fetchone()[0])


def last_reply(conn: sqlite3.Connection, session_uuid: str) -> tuple[str, str] | None:
    """(time, text) of the session's last reply as the Stop hook saw it."""
    row = conn.execute("SELECT at, text, text_len FROM chat_turns WHERE session_uuid = ?"
                       " AND role = 'assistant' ORDER BY id DESC LIMIT 1",
                       (session_uuid,)).fetchone()
    if row is None:
        return None
    at, blob, length = row
    return str(at), codec.decompress(blob, length).decode("utf-8", "replace")


def merge_turns(conn: sqlite3.Connection,
                turns: list[tuple[str, str | None, str, str, bytes, int]]) -> int:
    """Turns read from an old archive (session, prompt id, role, time, compressed text, raw
    length) that this one does not hold yet; returns how many were added."""
    added = 0
    for session_uuid, prompt_id, role, when, blob, length in turns:
        # Compared by their text, not their compressed bytes (another level, another blob).
        text = codec.decompress(blob, length)
        present = any(codec.decompress(other, length) == text for (other,) in conn.execute(
            "SELECT text FROM chat_turns WHERE session_uuid = ? AND role = ? AND at = ?"
            " AND text_len = ?", (session_uuid, role, when, length)))
        if not present:
            added += conn.execute("INSERT INTO chat_turns(session_uuid, prompt_id, role, at,"
                                  " text, text_len) SELECT ?, ?, ?, ?, ?, ?" + UNLESS_FORGOTTEN,
                                  (session_uuid, prompt_id, role, when, blob, length,
                                   session_uuid)).rowcount
    return added


def delete_session(conn: sqlite3.Connection, session_uuid: str) -> int:
    return conn.execute("DELETE FROM chat_turns WHERE session_uuid = ?",
                        (session_uuid,)).rowcount
