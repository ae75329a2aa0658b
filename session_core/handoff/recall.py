"""Recall at the point of action: before a file changes, which earlier session changed it and
why; after a command fails, what fixed the same error before. One indexed lookup each
(``store.recall``), no transcript read: these run on every edit and every failed command.
The words are redacted like every handoff.
"""

from __future__ import annotations

from ..base.clock import minute_text
from ..base.text import clip, quoted, short_path
from ..store import recall
from .redact import redact

TYPE_CHECKING = False  # the name, not typing's: typing stays off the hook path
if TYPE_CHECKING:
    import sqlite3

NOTE_CHARS = 600
"""At most this many characters per note: it sits beside a tool call, not before a session."""



def before_edit(conn: sqlite3.Connection, path: str, session: str | None,
                project: str | None) -> str:
    """What earlier sessions did to ``path`` (the latest first, two at most), or ""."""
    changes = recall.changes_of(conn, path, other_than=session, limit=2)
    if not changes:
        return ""
    name = short_path(path, project)
    lines = [f"[session-core] {name} was changed before in this project:"]
    for change in changes:
        what = change.action if change.edits <= 1 else f"{change.action}, {change.edits} edits"
        line = f"- session {change.session_uuid} ({minute_text(change.at)}, {what})"
        if change.request:
            line += f", asked: {quoted(change.request, 160)}"
        if change.note:
            line += f"; it said: {quoted(change.note, 200)}"
        lines.append(line)
    lines.append(f"(session-core blame {name} lists every session that touched it.)")
    return clip(redact("\n".join(lines)), NOTE_CHARS, ellipsis=True)


def after_failure(conn: sqlite3.Connection, error: str, session: str | None) -> str:
    """What fixed this error when an earlier session met it, or ""."""
    from ..transcript.outcomes import cause_line, error_signature  # not before an edit

    cause = cause_line(error)
    if not cause:
        return ""
    fix = recall.fix_of(conn, error_signature(cause), session)
    if fix is None:
        return ""
    text = (f"[session-core] This error was seen before, in session {fix.session_uuid}"
            f" ({minute_text(fix.at)}): {quoted(fix.error, 200)}. What worked then: {fix.fix}.")
    return clip(redact(text), NOTE_CHARS, ellipsis=True)


