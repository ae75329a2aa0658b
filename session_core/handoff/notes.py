"""Choosing and gathering what a SessionStart hands over, from the store: the latest session of
real work (and a line for each other recent one left unfinished) for ``startup``/``clear``,
this session's own threads for ``compact``, one line for ``resume``/``fork``. The words
themselves are ``text``'s.
"""

from __future__ import annotations

import time

from ..base.clock import utc_stamp
from ..base.errors import SessionCoreError
from ..base.sqlite_driver import sqlite3
from ..store import chat, entries, files, sessions, state
from ..transcript.digest import digest_of, save_digest
from . import text
from .git import DirtyCheck

TYPE_CHECKING = False  # the name, not typing's: typing stays off the hook path
if TYPE_CHECKING:
    from collections.abc import Callable

    from ..base.settings import Settings
    from ..store.connection import Database
    from ..transcript.digest import Digest

RECENT_DAYS = 7
"""Other sessions of this many days are mentioned when left open or with work uncommitted."""
_CANDIDATES = 12
_OTHERS = 5


class Choice:
    """The session a new one is told about, its digest and its subagents', and the other
    recent sessions worth a line."""

    __slots__ = ("digest", "others", "row", "subagents")

    def __init__(self, row: sessions.SessionRow, digest: Digest, subagents: list[Digest],
                 others: list[text.Other]) -> None:
        self.row, self.digest, self.subagents, self.others = row, digest, subagents, others


def choose(db: Database, own_session: str, settings: Settings,
           session: sessions.SessionRow | None = None,
           running: Callable[[str], bool] | None = None) -> Choice | None:
    """The latest session of the last days that did real work (changed a file, committed, ran
    a command that changes things, kept a task list), else the latest with a prompt: a
    one-question session never hides the work before it. ``session``: that one instead.
    ``running``: whether the hooks saved a session minutes ago (it may still be open).
    Digests that were behind are brought up to date and saved here (see
    :func:`session_digest`), so the caller may commit before it waits for git."""
    limit = settings.max_indexed_line_bytes
    if session is not None:
        return Choice(session, session_digest(db, session.session_id, session.uuid, limit),
                      subagent_digests(db, session.session_id, limit), [])
    since = utc_stamp(time.time() - RECENT_DAYS * 86400)
    rows = sessions.recent_with_prompt(db.conn, own_session, since, _CANDIDATES)
    if not rows:
        return None
    gathered = [(row, session_digest(db, row.session_id, row.uuid, limit),
                 subagent_digests(db, row.session_id, limit)) for row in rows]
    # a subagent's edits are the session's work too (a session may only delegate)
    worked = [digest.did_work() or any(s.did_work() for s in subs) for _, digest, subs in gathered]
    main = next((n for n, did in enumerate(worked) if did), 0)
    others = []
    for n, (row, digest, subs) in enumerate(gathered):
        if n == main:
            continue
        known = state.get(db.conn, row.uuid)
        unended = known is not None and known.ended_at is None
        is_open = unended and running is not None and running(row.uuid)
        changed = len({*digest.files, *(path for s in subs for path in s.files)})
        if is_open or (worked[n] and unended) or (changed and not digest.commits):
            others.append(text.Other(digest, is_open, unended and not is_open, changed))
    row, digest, subs = gathered[main]
    return Choice(row, digest, subs, others[:_OTHERS])


def previous_session(conn: sqlite3.Connection, own_session: str) -> sessions.SessionRow | None:
    """The most recent other session with a prompt (the default of ``handoff --source
    compact``), a branch or merge nobody resumed left out as :func:`choose` leaves it."""
    found = sessions.recent_with_prompt(conn, own_session, "", 1)
    return found[0] if found else None


def previous_session_note(db: Database, choice: Choice, settings: Settings,
                          dirty_check: DirtyCheck | None, deadline: float,
                          saved_recently: bool, project: str | None = None) -> str:
    """startup / clear, from a :func:`choose` (taken first, so that what it wrote can be
    committed before this waits for git). ``dirty_check`` was started before (it runs while
    the archive is read); its answer is awaited until a quarter of what is left before
    ``deadline``, 1 s at most. ``saved_recently``: the hooks saved that session minutes ago,
    so, if it never ended, it may still be open in another terminal."""
    previous = choice.row
    known = state.get(db.conn, previous.uuid)
    dirty = None if dirty_check is None else dirty_check.result(
        timeout=max(0.1, min(1.0, (deadline - time.monotonic()) / 4)))
    ended = known is not None and known.ended_at is not None
    left = text.EndState(known.git_branch if known else None,
                         known.git_commit if known else None, dirty,
                         not ended and saved_recently, ended)
    if dirty is not None and dirty_check is not None and dirty_check.branch is not None \
            and dirty_check.branch == (left.branch or choice.digest.git_branch):
        left.now_known, left.upstream, left.ahead = True, dirty_check.upstream, dirty_check.ahead
    return text.previous_session(choice.digest, left, settings.handoff_chars,
                                 newer_reply(db.conn, previous.uuid, choice.digest),
                                 project=project, subagents=choice.subagents,
                                 others=choice.others)


def compact_note(db: Database, session_uuid: str, settings: Settings,
                 project: str | None = None) -> str:
    """compact: what Claude Code's summary of this same session lacks."""
    session_id = sessions.id_of(db.conn, session_uuid)
    if session_id is None:
        return ""
    limit = settings.max_indexed_line_bytes
    digest = session_digest(db, session_id, session_uuid, limit)
    summary = latest_summary(db.conn, session_id) or state.compact_summary(db.conn,
                                                                            session_uuid)
    return text.after_compaction(digest, settings.handoff_chars, summary, project=project,
                                 subagents=subagent_digests(db, session_id, limit))


def latest_summary(conn: sqlite3.Connection, session_id: int) -> str | None:
    """The summary Claude Code wrote at the session's last compaction, as its transcript holds
    it (SessionStart ``compact`` fires before PostCompact, whose copy ``store.state`` keeps:
    at that moment the transcript's is the current one)."""
    found = entries.latest_of_kind(conn, session_id, "summary")
    if found is None:
        return None
    file_id, offset, length = found
    record = files.by_id(conn, file_id)
    if record is None:
        return None
    from ..store.frames import read_lines
    from ..transcript.records import RecordError, is_message, parse_record

    try:
        line = b"\n".join(read_lines(conn, record, offset, offset + length))
        message = parse_record(line).message
    except (RecordError, SessionCoreError):
        return None
    content = message.content if is_message(message) else None
    if isinstance(content, list):
        content = " ".join(str(block.get("text", "")) for block in content
                           if isinstance(block, dict))
    return content if isinstance(content, str) and content.strip() else None


def resume_note(conn: sqlite3.Connection, session_uuid: str) -> str:
    """resume / fork: Claude Code restores the conversation itself; one line is enough. Its
    count is ``list``'s: a branch or merge holds what it copied too."""
    from ..store.summary import conversation_counts

    row = sessions.row_of(conn, session_uuid)
    messages = conversation_counts(conn, row)[0] if row is not None else 0
    return text.resumed(session_uuid, messages) if messages else ""


def session_digest(db: Database, session_id: int, session_uuid: str,
                   max_line_bytes: int) -> Digest:
    """The digest of the session's own transcript as archived."""
    record = files.main_file(files.of_session(db.conn, session_id), session_uuid)
    return file_digest(db, record, max_line_bytes)


def subagent_digests(db: Database, session_id: int, max_line_bytes: int) -> list[Digest]:
    """The digests of the session's subagents' transcripts (compaction workers left out:
    they summarise, they change nothing)."""
    return [file_digest(db, record, max_line_bytes)
            for record in files.of_session(db.conn, session_id)
            if record.kind == "subagent" and "agent-acompact" not in record.rel_path]


def file_digest(db: Database, record: files.FileRecord, max_line_bytes: int) -> Digest:
    """A transcript's digest as archived. Ingest keeps it current; one that is behind (an
    archive from before digests or from before this digest version, a fold that failed) is
    brought up to date from the frames and saved, so that fold happens once, not at every
    session start."""
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
