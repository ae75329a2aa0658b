"""Choosing and gathering what a SessionStart hands over, from the store: the most recent earlier
session for ``startup``/``clear``, this session's own threads for ``compact``, one line for
``resume``/``fork``. The words themselves are ``text``'s.
"""

from __future__ import annotations

import sqlite3
import time

from ..base.errors import SessionCoreError
from ..store import chat, entries, files, sessions, state
from ..transcript.digest import digest_of, save_digest
from . import text
from .git import DirtyCheck

TYPE_CHECKING = False  # the name, not typing's: typing stays off the hook path
if TYPE_CHECKING:
    from ..base.settings import Settings
    from ..store.connection import Database
    from ..transcript.digest import Digest


def previous_session(conn: sqlite3.Connection, own_session: str) -> sessions.SessionRow | None:
    """The session a new one is told about: the most recent other one with a prompt."""
    return sessions.latest_with_prompt(conn, own_session)


def previous_session_note(db: Database, previous: sessions.SessionRow, digest: Digest,
                          settings: Settings, dirty_check: DirtyCheck | None, deadline: float,
                          saved_recently: bool) -> str:
    """startup / clear, from the previous session's :func:`session_digest` (taken first, so
    that what it wrote can be committed before this waits for git). ``dirty_check`` was
    started before (it runs while the archive is read); its answer is awaited until a quarter
    of what is left before ``deadline``, 1 s at most. ``saved_recently``: the hooks saved that
    session minutes ago, so, if it never ended, it may still be open in another terminal."""
    known = state.get(db.conn, previous.uuid)
    dirty = None if dirty_check is None else dirty_check.result(
        timeout=max(0.1, min(1.0, (deadline - time.monotonic()) / 4)))
    ended = known is not None and known.ended_at is not None
    left = text.EndState(known.git_branch if known else None,
                         known.git_commit if known else None, dirty,
                         not ended and saved_recently)
    return text.previous_session(digest, left, settings.handoff_chars,
                                 newer_reply(db.conn, previous.uuid, digest))


def compact_note(db: Database, session_uuid: str, settings: Settings) -> str:
    """compact: what summaries tend to drop from this same session."""
    session_id = sessions.id_of(db.conn, session_uuid)
    if session_id is None:
        return ""
    digest = session_digest(db, session_id, session_uuid, settings.max_indexed_line_bytes)
    return text.after_compaction(digest, settings.handoff_chars)


def resume_note(conn: sqlite3.Connection, session_uuid: str) -> str:
    """resume / fork: Claude Code restores the conversation itself; one line is enough."""
    messages = entries.message_count(conn, session_uuid)
    return text.resumed(session_uuid, messages) if messages else ""


def session_digest(db: Database, session_id: int, session_uuid: str,
                   max_line_bytes: int) -> Digest:
    """The digest of the session's own transcript as archived. Ingest keeps it current; one
    that is behind (an archive from before digests, a fold that failed) is brought up to date
    from the frames and saved, so that fold happens once, not at every session start."""
    record = files.main_file(files.of_session(db.conn, session_id), session_uuid)
    found = digest_of(db.conn, record, max_line_bytes=max_line_bytes)
    assert found is not None  # no limit: it folds whatever the saved digest lacks
    digest, folded = found
    if folded:
        try:
            with db.write() as conn:
                now = files.by_id(conn, record.file_id)
                if now is not None and (now.generation, now.committed) == (
                        record.generation, record.committed):
                    save_digest(conn, record, digest)
        except SessionCoreError:
            pass  # locked or read-only: the next reader folds again
    return digest


def newer_reply(conn: sqlite3.Connection, session_uuid: str, digest: Digest) -> str | None:
    """The Stop payload's last reply, when the transcript never caught up with it."""
    saved = chat.last_reply(conn, session_uuid)
    if saved is None:
        return None
    at, reply = saved
    last_seen = digest.replies[-1][0] if digest.replies else None
    if last_seen is not None and at[:23] <= last_seen[:23]:
        return None
    return reply
