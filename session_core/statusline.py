"""The ``statusLine`` command: one line from Claude Code's stdin JSON and the archive's state.

It runs on every refresh of Claude Code's UI, so it reads two tiny JSON files the hooks leave
(``live/<session>.json``, ``health.json``) and ``.git/HEAD``; never SQLite, never the transcript.
Every field may be null or missing (first render, after ``/compact``): a segment without data is
left out, and the line is printed whatever happens.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from . import gitinfo, hooklog, live
from .hookio import PayloadError, parse_payload, read_stdin

_COLOURS = {"dim": "2", "green": "32", "yellow": "33", "red": "1;31", "cyan": "36"}
SEPARATOR = " | "


def _paint(text: str, colour: str, enabled: bool) -> str:
    return f"\x1b[{_COLOURS[colour]}m{text}\x1b[0m" if enabled else text


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else None


def _age(seconds: float) -> str:
    if seconds < 60:
        return f"{int(seconds)}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    return f"{int(seconds // 3600)}h{int(seconds % 3600 // 60):02d}m"


def _project(payload: dict[str, Any]) -> Path:
    for candidate in (_get(payload, "workspace", "project_dir"), os.environ.get(
            "CLAUDE_PROJECT_DIR"), _get(payload, "workspace", "current_dir"), payload.get("cwd")):
        if isinstance(candidate, str) and candidate:
            return Path(candidate)
    return Path.cwd()  # Claude Code runs the status line in the project directory


def _session_segments(payload: dict[str, Any], colour: bool) -> list[str]:
    parts: list[str] = []
    model = _get(payload, "model", "display_name") or _get(payload, "model", "id")
    if isinstance(model, str):
        parts.append(_paint(model, "cyan", colour))
    head = gitinfo.read_head(_project(payload))
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


def _archive_segment(payload: dict[str, Any], colour: bool, now: float) -> str:
    folder = live.archive_dir_for(_project(payload))
    health = hooklog.read_json(folder / hooklog.HEALTH_NAME)
    failures = health.get("failures")
    if isinstance(failures, int) and failures > 0:
        error = str(health.get("last_error", "see hooks.log"))[:60]
        return _paint(f"⚠ archive: {failures} failed hook run(s): {error}", "red", colour)
    session = payload.get("session_id")
    state = hooklog.read_json(live.live_path(folder, session)) if isinstance(session, str) else {}
    saved, saved_at = state.get("saved"), _number(state.get("saved_at"))
    if not isinstance(saved, int) or saved_at is None:
        return _paint("archive: nothing saved yet", "dim", colour)
    return _paint(f"● {saved} msgs saved {_age(max(0.0, now - saved_at))} ago", "green", colour)


def render(payload: dict[str, Any], colour: bool, now: float | None = None) -> str:
    """The status line for ``payload``; pure apart from reading the small state files."""
    segments = _session_segments(payload, colour)
    segments.append(_archive_segment(payload, colour, time.time() if now is None else now))
    return SEPARATOR.join(segments)


def main() -> int:
    """Always prints one line and exits 0: an error or empty output would blank the line."""
    colour = not os.environ.get("NO_COLOR")
    try:
        payload = parse_payload(read_stdin(timeout=1.0))
    except PayloadError as exc:
        hooklog.log("WARN", "statusLine", str(exc))
        payload = {}
    try:
        line = render(payload, colour)
    except Exception as exc:  # a status line must never go blank because of us
        hooklog.log("ERROR", "statusLine", f"{type(exc).__name__}: {exc}")
        line = "session-core: status unavailable (see hooks.log)"
    sys.stdout.write(line + "\n")
    return 0
