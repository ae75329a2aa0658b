"""``session-core doctor``: what a careful user should know about a project's archive, read
without changing anything: where the data is and who can read it, whether the hooks can still
run, how old the last backup and the last clean ``verify`` are, what is pending, what failed,
and how soon Claude Code deletes its own copies (after which the archive is the only one)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from ..base import locations
from ..base.clock import stamp_seconds
from ..base.fs import read_json_object
from ..base.settings import Settings, load_settings
from ..hook.live import RECOVER_PENDING, failed_marker, health_file
from ..hook.log import log_path
from ..store.backup import newest_stamp
from ..transcript import layout
from .render import render_age

DEFAULT_CLEANUP_DAYS = 30
"""Claude Code's ``cleanupPeriodDays`` when its settings do not say."""
STALE_BACKUP_DAYS = 2
STALE_VERIFY_DAYS = 30
VERIFIED_AT = "verified_at"
"""Key of ``health.json``: when ``verify`` last found the archive healthy (epoch s)."""


def _git_tracks(project: str, folder: str) -> bool:
    try:
        done = subprocess.run(["git", "-C", project, "ls-files", "--", folder],
                              capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0 and bool(done.stdout.strip())


def _hook_interpreters(project: str) -> list[str]:
    """Commands of our hooks, in the project's settings files, that no longer exist."""
    missing = []
    for name in ("settings.local.json", "settings.json"):
        path = Path(project) / ".claude" / name
        try:
            settings = json.loads(path.read_bytes())
        except (OSError, ValueError):
            continue
        groups = settings.get("hooks", {}) if isinstance(settings, dict) else {}
        for event, entries in (groups.items() if isinstance(groups, dict) else []):
            for entry in entries if isinstance(entries, list) else []:
                for handler in (entry.get("hooks", []) if isinstance(entry, dict) else []):
                    command = handler.get("command") if isinstance(handler, dict) else None
                    args = " ".join(map(str, handler.get("args") or [])) \
                        if isinstance(handler, dict) else ""
                    if isinstance(command, str) and "session-core" in command + args \
                            and os.path.isabs(command) and not os.path.exists(command):
                        missing.append(f"{name}: {event} runs {command}, which no longer"
                                       " exists (run 'session-core install' again)")
    return sorted(set(missing))


def _holds_sessions(archive: str) -> bool:
    from ..store.connection import READ_ERRORS, open_read_only

    try:
        conn = open_read_only(archive)
        try:
            return conn.execute("SELECT 1 FROM files LIMIT 1").fetchone() is not None
        finally:
            conn.close()
    except READ_ERRORS:
        return os.path.exists(archive)  # unreadable: a backup is all the more wanted


def _cleanup_days(settings: Settings) -> int:
    path = Path(layout.claude_config_dir()) / "settings.json"
    try:
        value = json.loads(path.read_bytes()).get("cleanupPeriodDays")
    except (OSError, ValueError, AttributeError):
        return DEFAULT_CLEANUP_DAYS
    return value if isinstance(value, int) and value > 0 else DEFAULT_CLEANUP_DAYS


def diagnose(project: str | None) -> tuple[list[str], list[str]]:
    """(facts, problems) as lines."""
    root = locations.project_root(project)
    settings = load_settings(root)
    folder = locations.archive_dir(root)
    archive = locations.archive_path(root)
    facts, problems = [f"Archive      {archive}"], []
    if not os.path.exists(archive):
        problems.append("there is no archive yet: run 'session-core import' (or install)")
    if os.path.isdir(folder) and os.stat(folder).st_mode & 0o077:
        problems.append(f"{folder} can be read by other users: chmod 700 it")
    if os.path.isdir(folder) and _git_tracks(root, folder):
        problems.append(f"{folder} is tracked by git: your transcripts would be committed"
                        " (git rm -r --cached it; the install keeps it in .git/info/exclude)")
    problems += _hook_interpreters(root)
    now = time.time()
    newest = newest_stamp(archive, settings)
    if newest is None and _holds_sessions(archive):
        problems.append("no backup yet: 'session-core backup' takes one")
    elif newest is None:
        facts.append("Last backup  none yet (nothing archived; the first Stop takes one)")
    else:
        age = now - stamp_seconds(newest)
        facts.append(f"Last backup  {render_age(age, words=True)} ago")
        if age > STALE_BACKUP_DAYS * 86400 and settings.backup_interval_hours:
            problems.append(f"the newest backup is {render_age(age, words=True)} old:"
                            " 'session-core backup'")
    health = read_json_object(health_file(folder))
    verified = health.get(VERIFIED_AT)
    if isinstance(verified, (int, float)):
        facts.append(f"Last verify  {render_age(now - verified, words=True)} ago, healthy")
        if now - verified > STALE_VERIFY_DAYS * 86400:
            problems.append("no clean 'session-core verify' for a month")
    else:
        facts.append("Last verify  never (run 'session-core verify')")
    if isinstance(health.get(RECOVER_PENDING), dict):
        pending = health[RECOVER_PENDING]
        assert isinstance(pending, dict)
        problems.append(f"a damaged archive was set aside ({pending.get('reason')}): run"
                        " 'session-core recover'")
    failures = health.get("failures")
    if isinstance(failures, int) and failures:
        problems.append(f"{failures} hook run(s) failed in a row; last:"
                        f" {health.get('last_error')} (details: {log_path()})")
    if os.path.exists(failed_marker(folder)):
        problems.append("a hook could not save and could not even say why (disk full?)")
    days = _cleanup_days(settings)
    facts.append(f"Claude Code  deletes its transcripts after {days} days (cleanupPeriodDays):"
                 " older sessions exist only in this archive and its backups")
    return facts, problems
