"""The recall hooks' process, ``hooks/recall.py EVENT``: a note beside a tool call when the
archive knows something about it, once per session (``live.first_time``).

PreToolUse of an edit: the first time in a session that a file is about to change, which
earlier session changed it and why. PostToolUseFailure of Bash (Claude Code reports a failed
command there, with its ``error``; PostToolUse says no exit code, and a process on every
successful command would cost every command): what fixed the same error before.

Its own entry rather than ``hooks/run.py``: it runs on every edit and every failed command, so
it imports what it needs and no more (bench/hook_bench.py holds it to 2.5x ``python -I -S``).
No settings validation (``settings.peek``), SQLite's C module without ``sqlite3``'s Python
layer (``store.recall.reader``), a read-only connection and one indexed lookup: no lock, no
write to the archive. The contract is the other hooks': exit 0, whatever happens; trouble
with the archive is left for the saving hooks to report.
"""

from __future__ import annotations

import os
import sys
import time

from ..base import locations
from ..base.fs import PRIVATE, restrict_umask
from ..base.settings import peek
from ..handoff import recall
from ..store.recall import READ_ERRORS, open_reader
from .live import first_time
from .stdio import (
    PayloadError,
    emit_context,
    parse_payload,
    project_dir,
    read_stdin,
    text_field,
    warn_wrong_types,
)
from .watchdog import Watchdog

EVENTS = frozenset({"PreToolUse", "PostToolUseFailure"})
EDIT_TOOLS = frozenset({"Edit", "Write", "MultiEdit", "NotebookEdit"})
BUDGET_S = 3.0
"""Far below the template's timeout; the lookup takes milliseconds."""


def main(argv: list[str] | None = None) -> int:
    started = time.monotonic()
    event = "?"
    try:
        restrict_umask(PRIVATE)
        args = sys.argv[1:] if argv is None else argv
        event = args[0] if args else "?"
        watchdog = Watchdog(event, project_dir())
        watchdog.arm(started + BUDGET_S)
        payload = parse_payload(read_stdin(timeout=1.0))
        event = args[0] if args else text_field(payload, "hook_event_name") or "?"
        if event not in EVENTS:
            raise PayloadError(f"unknown hook event {event!r}")
        warn_wrong_types(event, payload)
        project = watchdog.project = project_dir(payload)
        note = _note(event, payload, project)
        if note:
            emit_context(event, note)
        watchdog.cancel()
    except Exception as exc:  # a bad payload: say why, exit 0
        from . import log

        log.log("ERROR", event, f"{type(exc).__name__}: {exc}")
    except BaseException as exc:  # the contract is exit 0, always
        from . import log

        log.log("ERROR", "hook", f"unexpected {type(exc).__name__}: {exc}")
    return 0


def _note(event: str, payload: dict[str, object], project: str) -> str:
    session = text_field(payload, "session_id")
    if session is None or peek(project, "recall") is not True:
        return ""
    archive = locations.archive_path(project)
    if event == "PreToolUse":
        path = _edited_path(payload, project)
        if path is None:
            return ""
        note = _lookup(archive, lambda conn: recall.before_edit(conn, path, session, project))
        key = f"edit {path}"
    else:
        error = text_field(payload, "error")
        if text_field(payload, "tool_name") != "Bash" or error is None \
                or payload.get("is_interrupt") is True:
            return ""  # an interrupt is the user's doing, not an error to look up
        note = _lookup(archive, lambda conn: recall.after_failure(conn, error, session))
        key = f"error {note[:200]}"
    if note and first_time(locations.archive_dir(project), session, key):
        return note
    return ""


def _edited_path(payload: dict[str, object], project: str) -> str | None:
    tool_input = payload.get("tool_input")
    if text_field(payload, "tool_name") not in EDIT_TOOLS or not isinstance(tool_input, dict):
        return None
    path = tool_input.get("file_path") or tool_input.get("notebook_path")
    if not isinstance(path, str) or not path:
        return None
    if not os.path.isabs(path):
        path = os.path.join(text_field(payload, "cwd") or project, path)
    return os.path.normpath(path)


def _lookup(archive: str, look: Callable[[Connection], str]) -> str:
    """``look`` on the archive opened read-only, or "" when there is none (yet) or it cannot
    be read (locked, damaged, not upgraded): recall is a courtesy, never a failure."""
    if not os.path.exists(archive):
        return ""
    try:
        conn = open_reader(archive)
        try:
            return look(conn)
        finally:
            conn.close()
    except (*READ_ERRORS, UnicodeEncodeError):  # a payload's lone surrogate: nothing to find
        return ""


TYPE_CHECKING = False  # the name, not typing's: typing stays off the hook path
if TYPE_CHECKING:
    from collections.abc import Callable
    from sqlite3 import Connection
