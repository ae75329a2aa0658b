"""context_manager: what the next context needs, handed over at SessionStart.

``startup``/``clear`` get the most recent earlier session of the project, ``compact`` gets this
session's own open threads, ``resume``/``fork`` a one-line note (Claude Code restores the
conversation itself). PostCompact keeps the compaction summary. No history, no output.
"""

from __future__ import annotations

import sqlite3
import time

from .. import codec, gitinfo, live
from ..digest import Digest
from ..digest_cache import session_digest
from ..handoff import GitState, after_compaction, previous_session, resumed
from ..hookio import text_field
from ..hookrun import HookContext
from ..queries import main_file, session_files, session_message_count
from .common import live_state_path

_PREVIOUS_SESSION = (
    "SELECT s.id, s.uuid FROM sessions s WHERE s.uuid != ? AND s.last_ts IS NOT NULL"
    " AND EXISTS (SELECT 1 FROM files f WHERE f.session_id = s.id AND f.kind = 'session')"
    " AND EXISTS (SELECT 1 FROM entries e WHERE e.session_id = s.id AND e.kind = 'prompt')"
    " ORDER BY s.last_ts DESC LIMIT 1"
)


def handoff(ctx: HookContext) -> None:
    source = text_field(ctx.payload, "source") or "startup"
    if source in ("resume", "fork"):
        text = _resume_note(ctx)
    elif source == "compact":
        text = _compact_note(ctx)
    else:
        text = _previous_session_note(ctx)
    if text:
        ctx.context.append(text)


def after_compact(ctx: HookContext) -> None:
    """Keep Claude Code's own compaction summary next to the session (lossy, but the model's)."""
    summary, session = text_field(ctx.payload, "compact_summary"), ctx.session_id
    if summary is None or session is None:
        return
    blob = codec.compress(summary.encode("utf-8", "replace"), ctx.settings.compression_level)
    with ctx.archive().db.write() as conn:
        conn.execute(
            "INSERT INTO session_state(session_uuid, compact_summary) VALUES (?, ?)"
            " ON CONFLICT(session_uuid) DO UPDATE SET compact_summary = excluded.compact_summary",
            (session, blob),
        )


def _digest(ctx: HookContext, session_id: int, uuid: str) -> Digest:
    """Read through the session's saved digest: only lines after the last save are folded."""
    conn = ctx.archive().db.conn
    record = main_file(session_files(conn, session_id), uuid)
    digest = session_digest(conn, live.archive_dir_for(ctx.project), uuid, record)
    assert digest is not None  # no limit given: folds from the start if it must
    return digest


def _previous_session_note(ctx: HookContext) -> str:
    conn = ctx.archive().db.conn
    row = conn.execute(_PREVIOUS_SESSION, (ctx.session_id or "",)).fetchone()
    if row is None:
        return ""
    session_id, uuid = row
    dirty_check = gitinfo.DirtyCheck(ctx.project)
    digest = _digest(ctx, session_id, uuid)
    state = conn.execute(
        "SELECT git_branch, git_commit, ended_at FROM session_state WHERE session_uuid = ?",
        (uuid,)).fetchone()
    dirty = dirty_check.result(timeout=max(0.1, min(1.0, ctx.remaining() / 4)))
    ended = state is not None and state[2] is not None
    git = GitState(state[0] if state else None, state[1] if state else None, dirty,
                   not ended and _saved_recently(ctx, uuid))
    return previous_session(digest, git, ctx.settings.handoff_chars,
                            _newer_reply(conn, uuid, digest))


RUNNING_SECONDS = 15 * 60
"""A session with no SessionEnd, saved this recently, may still be open in another terminal."""


def _saved_recently(ctx: HookContext, uuid: str) -> bool:
    state = live.read_json(live_state_path(ctx, uuid))
    saved_at = state.get("saved_at")
    return isinstance(saved_at, (int, float)) and time.time() - saved_at < RUNNING_SECONDS


def _newer_reply(conn: sqlite3.Connection, uuid: str, digest: Digest) -> str | None:
    """The Stop payload's last reply, when the transcript never caught up with it."""
    row = conn.execute("SELECT at, text, text_len FROM chat_turns WHERE session_uuid = ?"
                       " AND role = 'assistant' ORDER BY id DESC LIMIT 1", (uuid,)).fetchone()
    if row is None:
        return None
    at, blob, length = row
    last_seen = digest.replies[-1][0] if digest.replies else None
    if last_seen is not None and at[:23] <= last_seen[:23]:
        return None
    return codec.decompress(blob, length).decode("utf-8", "replace")


def _compact_note(ctx: HookContext) -> str:
    if ctx.session_id is None:
        return ""
    conn = ctx.archive().db.conn
    row = conn.execute("SELECT id FROM sessions WHERE uuid = ?", (ctx.session_id,)).fetchone()
    if row is None:
        return ""
    return after_compaction(_digest(ctx, row[0], ctx.session_id), ctx.settings.handoff_chars)


def _resume_note(ctx: HookContext) -> str:
    if ctx.session_id is None:
        return ""
    messages = session_message_count(ctx.archive().db.conn, ctx.session_id)
    return resumed(ctx.session_id, messages) if messages else ""
