"""The ``session_state`` table: what the hooks know of a session that its transcript does not
say (git branch and commit as it left them, whether and how it ended, the compaction summary
Claude Code wrote)."""

from __future__ import annotations

from ..base.errors import CorruptBlobError
from ..base.sqlite_driver import sqlite3
from . import codec
from .forgotten import UNLESS_FORGOTTEN

TYPE_CHECKING = False  # the name, not typing's: typing stays off the hook path
if TYPE_CHECKING:
    from typing import Any


class SessionState:
    __slots__ = ("end_reason", "ended_at", "git_branch", "git_commit", "last_event",
                 "last_event_at")

    def __init__(self, row: tuple[Any, ...]) -> None:
        (self.git_branch, self.git_commit, self.last_event, self.last_event_at,
         self.end_reason, self.ended_at) = row

    git_branch: str | None
    git_commit: str | None
    last_event: str | None
    last_event_at: str | None
    end_reason: str | None
    ended_at: str | None
    """Set by SessionEnd; cleared again when the session is resumed."""


def get(conn: sqlite3.Connection, session_uuid: str) -> SessionState | None:
    row = conn.execute(
        "SELECT git_branch, git_commit, last_event, last_event_at, end_reason, ended_at"
        " FROM session_state WHERE session_uuid = ?", (session_uuid,)).fetchone()
    return None if row is None else SessionState(row)


def record_event(conn: sqlite3.Connection, session_uuid: str, event: str, when: str,
                 head_read: bool, branch: str | None, commit: str | None,
                 end_reason: str | None) -> None:
    """The session's git state after ``event`` (``head_read``: HEAD could be read, so branch and
    commit are what it said, None on a detached HEAD; else what was known stays), and whether
    it ended (a session resumed after its SessionEnd is open again until it ends again)."""
    conn.execute(
        "INSERT INTO session_state(session_uuid, git_branch, git_commit, last_event,"
        " last_event_at, end_reason, ended_at) SELECT ?, ?, ?, ?, ?, ?, ?" + UNLESS_FORGOTTEN +
        " ON CONFLICT(session_uuid) DO UPDATE SET"
        " git_branch = CASE WHEN ? THEN excluded.git_branch ELSE git_branch END,"
        " git_commit = CASE WHEN ? THEN excluded.git_commit ELSE git_commit END,"
        " last_event = excluded.last_event, last_event_at = excluded.last_event_at,"
        " end_reason = excluded.end_reason, ended_at = excluded.ended_at",
        (session_uuid, branch, commit, event, when, end_reason, when if end_reason else None,
         session_uuid, head_read, head_read))


def mark_open(conn: sqlite3.Connection, session_uuid: str, event: str, when: str,
              only_if_newer: bool = False) -> None:
    """The session is active and has not ended (again, if it was resumed). ``only_if_newer``:
    a mark spooled while the archive was busy never undoes a later event (its end)."""
    conn.execute(
        "INSERT INTO session_state(session_uuid, last_event, last_event_at) SELECT ?, ?, ?"
        + UNLESS_FORGOTTEN +
        " ON CONFLICT(session_uuid) DO UPDATE SET last_event = excluded.last_event,"
        " last_event_at = excluded.last_event_at, end_reason = NULL, ended_at = NULL"
        + (" WHERE coalesce(last_event_at, '') < excluded.last_event_at" if only_if_newer
           else ""), (session_uuid, event, when, session_uuid))


def maybe_unfinished(conn: sqlite3.Connection, since: str) -> list[str]:
    """Sessions active since ``since`` that did not end cleanly: marked open by a prompt (maybe
    with nothing archived yet), or with recent archived records and no SessionEnd (a session
    whose prompts the hooks missed). Their transcripts' tails may be missing."""
    return [row[0] for row in conn.execute(
        "SELECT session_uuid FROM session_state WHERE ended_at IS NULL AND last_event_at >= ?"
        " UNION SELECT s.uuid FROM sessions s LEFT JOIN session_state st"
        " ON st.session_uuid = s.uuid WHERE s.last_ts >= ? AND st.ended_at IS NULL",
        (since, since))]


def save_compact_summary(conn: sqlite3.Connection, session_uuid: str, summary: str,
                         level: int) -> None:
    """Claude Code's own summary of the session at its last compaction (zstd-compressed)."""
    blob = codec.compress(summary.encode("utf-8", "replace"), level)
    conn.execute(
        "INSERT INTO session_state(session_uuid, compact_summary) SELECT ?, ?" + UNLESS_FORGOTTEN
        + " ON CONFLICT(session_uuid) DO UPDATE SET compact_summary = excluded.compact_summary",
        (session_uuid, blob, session_uuid))


def compact_summary(conn: sqlite3.Connection, session_uuid: str) -> str | None:
    """The summary :func:`save_compact_summary` kept, or None (never compacted, or damaged:
    the compact note then does without it)."""
    row = conn.execute("SELECT compact_summary FROM session_state WHERE session_uuid = ?",
                       (session_uuid,)).fetchone()
    if row is None or row[0] is None:
        return None
    try:
        return codec.decompress_sized(row[0]).decode("utf-8", "replace")
    except CorruptBlobError:  # the note is made without it
        return None


def merge_rows(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> int:
    """Rows read from an old archive (all eight columns): a session's row is taken when this
    archive has none for it or an older one (by ``last_event_at``). Returns rows taken."""
    taken = 0
    for row in rows:
        cursor = conn.execute(
            "INSERT INTO session_state(session_uuid, git_branch, git_commit, last_event,"
            " last_event_at, end_reason, ended_at, compact_summary) SELECT ?,?,?,?,?,?,?,?"
            + UNLESS_FORGOTTEN +
            " ON CONFLICT(session_uuid) DO UPDATE SET git_branch = excluded.git_branch,"
            " git_commit = excluded.git_commit, last_event = excluded.last_event,"
            " last_event_at = excluded.last_event_at, end_reason = excluded.end_reason,"
            " ended_at = excluded.ended_at,"
            " compact_summary = coalesce(excluded.compact_summary, compact_summary)"
            " WHERE coalesce(last_event_at, '') < coalesce(excluded.last_event_at, '')",
            (*row, row[0]))
        taken += cursor.rowcount
        if row[7] is not None:  # a summary this row lacks, whichever row is newer
            conn.execute("UPDATE session_state SET compact_summary = ? WHERE session_uuid = ?"
                         " AND compact_summary IS NULL", (row[7], row[0]))
    return taken


def delete(conn: sqlite3.Connection, session_uuid: str) -> None:
    conn.execute("DELETE FROM session_state WHERE session_uuid = ?", (session_uuid,))
