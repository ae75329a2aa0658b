"""The ``statusLine`` command: one line from Claude Code's stdin JSON and the archive's state.

It runs on every refresh of Claude Code's UI, so it reads two tiny JSON files the hooks leave
(``live/<session>.json``, ``health.json``) and ``.git/HEAD``; never SQLite, never the transcript.
It imports ``os``, ``sys``, ``time`` and a few small modules of ours, not even ``json`` (see
``base.jsonlite``): bench/hook_bench.py holds it to 2x a bare interpreter. Every field may be
null or missing (first render, after ``/compact``): a segment without data is left out, and a
line is always printed (empty output would blank the status line).
"""

from __future__ import annotations

import os
import sys
import time

from ..base.fs import read_json_object
from ..base.locations import archive_dir
from ..handoff.git import read_head
from .live import RECOVER_PENDING, failed_marker, health_file, read_live
from .stdio import parse_payload, read_stdin

_COLOURS = {"dim": "2", "green": "32", "yellow": "33", "red": "1;31", "cyan": "36"}
SEPARATOR = " | "
MAX_STDIN = 1024 * 1024
STDIN_SECONDS = 1.0


def _paint(text: str, colour: str, enabled: bool) -> str:
    return f"\x1b[{_COLOURS[colour]}m{text}\x1b[0m" if enabled else text


def _get(data: object, *keys: str) -> object:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else None


def _age(seconds: float) -> str:
    if seconds < 60:
        return f"{int(seconds)}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    return f"{int(seconds // 3600)}h{int(seconds % 3600 // 60):02d}m"


def _project(payload: dict[str, object]) -> str:
    for candidate in (_get(payload, "workspace", "project_dir"), os.environ.get(
            "CLAUDE_PROJECT_DIR"), _get(payload, "workspace", "current_dir"), payload.get("cwd")):
        if isinstance(candidate, str) and candidate:
            return candidate
    return os.getcwd()  # Claude Code runs the status line in the project directory


def _session_segments(payload: dict[str, object], colour: bool) -> list[str]:
    parts: list[str] = []
    model = _get(payload, "model", "display_name") or _get(payload, "model", "id")
    if isinstance(model, str):
        parts.append(_paint(model, "cyan", colour))
    head = read_head(_project(payload))
    if head is not None:
        parts.append(head.branch or (head.commit or "")[:7] or "git")
    used = _number(_get(payload, "context_window", "used_percentage"))
    if used is not None:
        tone = "green" if used < 50 else "yellow" if used < 80 else "red"
        parts.append(_paint(f"ctx {used:.0f}%", tone, colour))
    cost = _number(_get(payload, "cost", "total_cost_usd"))
    if cost is not None:
        parts.append(f"${cost:.2f}")
    duration = _number(_get(payload, "cost", "total_duration_ms"))
    if duration is not None:
        parts.append(_age(duration / 1000))
    return parts


def _archive_segment(payload: dict[str, object], colour: bool, now: float) -> str:
    folder = archive_dir(_project(payload))
    health = read_json_object(health_file(folder))
    if isinstance(health.get(RECOVER_PENDING), dict):
        return _paint("⚠ archive damaged, set aside: run session-core recover", "red", colour)
    if os.path.exists(failed_marker(folder)):
        return _paint("⚠ archive: saves are failing and nothing can be written (disk full?);"
                      " see 'session-core doctor'", "red", colour)
    failures = health.get("failures")
    if isinstance(failures, int) and failures > 0:
        from ..base.text import clip  # only when there is a failure to show

        error = clip(str(health.get("last_error", "see hooks.log")), 60)
        return _paint(f"⚠ archive: {failures} failed hook run(s): {error}", "red", colour)
    session = payload.get("session_id")
    state = read_live(folder, session) if isinstance(session, str) else {}
    saved, saved_at = state.get("saved"), _number(state.get("saved_at"))
    if not isinstance(saved, int) or saved <= 0 or saved_at is None:  # a start saves nothing
        return _paint("archive: nothing saved yet", "dim", colour)
    return _paint(f"● {saved} msgs saved {_age(max(0.0, now - saved_at))} ago", "green", colour)


def render(payload: dict[str, object], colour: bool, now: float | None = None) -> str:
    """The status line for ``payload``; pure apart from reading the small state files."""
    segments = _session_segments(payload, colour)
    segments.append(_archive_segment(payload, colour, time.time() if now is None else now))
    return SEPARATOR.join(segments)


def _payload() -> dict[str, object]:
    return parse_payload(read_stdin(MAX_STDIN, STDIN_SECONDS))


def _log(level: str, message: str) -> None:
    from .log import log  # only on trouble

    log(level, "statusLine", message)


def main() -> int:
    """Always prints one line and exits 0: an error or empty output would blank the line."""
    colour = not os.environ.get("NO_COLOR")
    try:
        payload = _payload()
    except (ValueError, OSError) as exc:
        _log("WARN", str(exc))
        payload = {}
    try:
        line = render(payload, colour)
    except Exception as exc:  # a status line must never go blank because of us
        _log("ERROR", f"{type(exc).__name__}: {exc}")
        line = "session-core: status unavailable (see hooks.log)"
    sys.stdout.write(line + "\n")
    return 0
