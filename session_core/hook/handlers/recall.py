"""recall: a note beside the tool call, when the archive knows something about it.

PreToolUse on an edit: the first time in a session that a file is about to change, which
earlier session changed it and why. PostToolUseFailure of Bash (Claude Code reports a command
that failed there, with its ``error``; PostToolUse's result says no exit code, and a process on
every successful command would cost every command): what fixed the same error in an earlier
session. Each note once per session
(``live.first_time``). The archive is read through a read-only connection and one indexed
lookup: no lock, no transaction, nothing written to it; these hooks sit on every tool call.
"""

from __future__ import annotations

import os

from ...base import locations
from ...handoff import recall
from ..live import first_time
from ..run import HookContext
from ..stdio import text_field

TYPE_CHECKING = False  # the name, not typing's: typing stays off the hook path
if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable

EDIT_TOOLS = frozenset({"Edit", "Write", "MultiEdit", "NotebookEdit"})


def before_edit(ctx: HookContext) -> None:
    tool_input = ctx.payload.get("tool_input")
    if not ctx.settings.recall or text_field(ctx.payload, "tool_name") not in EDIT_TOOLS \
            or not isinstance(tool_input, dict):
        return
    path = tool_input.get("file_path") or tool_input.get("notebook_path")
    session = ctx.session_id
    if not isinstance(path, str) or not path or session is None:
        return
    if not os.path.isabs(path):
        path = os.path.join(text_field(ctx.payload, "cwd") or ctx.project, path)
    path = os.path.normpath(path)
    note = _lookup(ctx, lambda conn: recall.before_edit(conn, path, session, ctx.project))
    if note and first_time(ctx.archive_dir, session, f"edit {path}"):
        ctx.context.append(note)


def after_failure(ctx: HookContext) -> None:
    if not ctx.settings.recall or text_field(ctx.payload, "tool_name") != "Bash":
        return
    error = text_field(ctx.payload, "error")
    session = ctx.session_id
    if not error or session is None:
        return
    note = _lookup(ctx, lambda conn: recall.after_failure(conn, error, session))
    if note and first_time(ctx.archive_dir, session, f"error {note[:200]}"):
        ctx.context.append(note)


def _lookup(ctx: HookContext, look: Callable[[sqlite3.Connection], str]) -> str:
    """``look`` on the archive opened read-only, or "" when there is none (yet) or it cannot
    be read (locked, damaged, not upgraded): recall is a courtesy, never a reason to fail or
    to log on every tool call; the saving hooks report such trouble."""
    path = locations.archive_path(ctx.project)
    if not os.path.exists(path):
        return ""

    from ...store.connection import READ_ERRORS, open_read_only

    try:
        conn = open_read_only(path)
        try:
            return look(conn)
        finally:
            conn.close()
    except READ_ERRORS:
        return ""
