"""What the hook tests share: the commands the template installs, an isolated world (home,
project, transcript where Claude Code keeps it), running a hook as Claude Code does, and the
contract every run must keep (exit 0, in time, clean stdout, the cause in ``hooks.log``)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from session_core.base import locations
from session_core.base.fs import read_json_object
from session_core.base.locations import HEALTH_NAME
from session_core.base.settings import Settings
from session_core.hook import log as hooklog
from session_core.transcript import layout

from .conftest import FIXTURES, REPO, run_cli

HOOKS = REPO / "hooks"
SESSION = "6b32797c-28fc-4a1f-b9c8-863fe6c99815"
FIXTURE = FIXTURES / f"{SESSION}.jsonl"

SLACK_S = 1.0
"""Interpreter start and exit around the budget, which only starts counting in ``main``."""
SESSION_END_LIMIT_S = 1.5
"""Claude Code's SessionEnd allowance; our budget (``session_end_budget_ms``) sits inside it."""
STATUS_LIMIT_S = 3.0
"""The status line reads stdin for at most 1 s; it must never hold up the UI much past that."""
LATE_START_S = 1.5
"""In concurrent runs the tightly timed targets start once the others have settled, so the
start-up contention of eight interpreters on a small machine is not billed to their budget."""
LOCK_HOLD_S = 10.0
TWENTY_MB = 20 * 1024 * 1024
GARBAGE = b"this was an archive once\x00\xff\xfe" * 4096
ISOLATED_VARS = ("HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME",
                 "CLAUDE_CONFIG_DIR", "SESSION_CORE_USER_CONFIG")

LOCK_HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("ready", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
"""
"""Another writer: takes the archive's write lock, says so, and keeps it."""


# --- targets: every command the template installs --------------------------------------------


@dataclass(frozen=True)
class Target:
    """One command Claude Code runs: a hook script with its event, or the status line."""

    script: str
    event: str | None
    flags: tuple[str, ...] = ()
    """Interpreter options the template starts it with (``-S`` for the recall hooks)."""

    @property
    def status_line(self) -> bool:
        return self.event is None

    @property
    def id(self) -> str:
        return self.event or "statusLine"

    @property
    def limit_s(self) -> float:
        """Wall time allowed from spawn to exit."""
        if self.status_line:
            return STATUS_LIMIT_S
        if self.event == "SessionEnd":
            return SESSION_END_LIMIT_S
        return Settings().hook_budget_ms / 1000 + SLACK_S


def template_targets() -> list[Target]:
    """Read from the template itself, so an event added there is covered here without edits."""
    template = json.loads((REPO / "settings.template.json").read_text(encoding="utf-8"))
    targets = []
    for groups in template["hooks"].values():
        for group in groups:
            for hook in group["hooks"]:
                *flags, script, event = hook["args"]
                targets.append(Target(script.rsplit("/", 1)[-1], event, tuple(flags)))
    return targets


HOOK_TARGETS = template_targets()
HOOK_TARGETS_BY_EVENT = {t.id: t for t in HOOK_TARGETS}
STATUS = Target("status_line.py", None, ("-S",))
"""As ``Suite.status_command`` writes it (the status line has no exec form to read back)."""
ALL_TARGETS = [*HOOK_TARGETS, STATUS]
SCRIPTS = sorted({t.script for t in HOOK_TARGETS})


# --- a world: an isolated home, a project, a transcript where Claude Code keeps it ------------


@dataclass
class World:
    project: Path
    transcript: Path
    env: dict[str, str]
    log_path: Path

    @property
    def archive_db(self) -> Path:
        return self.project / ".claude" / "session-core" / "archive.db"

    def health(self) -> dict[str, Any]:
        return read_json_object(self.archive_db.parent / HEALTH_NAME)


@contextmanager
def isolated(env: Mapping[str, str]) -> Iterator[None]:
    """This process sees the world's home, e.g. to open its archive or find its log."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ISOLATED_VARS:
            patch.setenv(name, env[name])
        patch.delenv(locations.DATA_DIR_ENV, raising=False)
        yield


def make_world(project: Path, base_env: Mapping[str, str]) -> World:
    env = dict(base_env)
    env.pop(locations.DATA_DIR_ENV, None)
    env.update(CLAUDE_PROJECT_DIR=str(project), NO_COLOR="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])))
    folder = (Path(env["CLAUDE_CONFIG_DIR"]) / "projects"
              / layout.encode_project_folder(project))
    folder.mkdir(parents=True, exist_ok=True)
    transcript = folder / f"{SESSION}.jsonl"
    shutil.copyfile(FIXTURE, transcript)  # not copy(): the fixture is read-only, tests append
    with isolated(env):
        log_path = Path(hooklog.log_path())
    return World(project, transcript, env, log_path)


def module_world(root: Path) -> World:
    """For module-scoped fixtures, which run before conftest's per-test isolation: the same
    variables, set by hand."""
    home = root / "home"
    home.mkdir()
    env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
               XDG_STATE_HOME=str(home / ".local" / "state"),
               XDG_DATA_HOME=str(home / ".local" / "share"),
               CLAUDE_CONFIG_DIR=str(home / ".claude"),
               SESSION_CORE_USER_CONFIG=str(home / "session-core.json"))
    project = root / "my project"
    project.mkdir()
    return make_world(project, env)


def payload(world: World, **fields: object) -> dict[str, object]:
    """Every field any event reads, valid, so each handler gets as far as the world lets it."""
    data: dict[str, object] = {
        "session_id": SESSION, "transcript_path": str(world.transcript),
        "cwd": str(world.project), "permission_mode": "default", "source": "startup",
        "prompt": "carry on", "last_assistant_message": "Done.", "trigger": "manual",
        "custom_instructions": "", "compact_summary": "We fixed the parser.", "reason": "other",
        "stop_hook_active": False, "workspace": {"project_dir": str(world.project),
                                                 "current_dir": str(world.project)},
        "model": {"id": "claude-test", "display_name": "Test"},
    }
    data.update(fields)
    return data


def encode(data: object) -> bytes:
    return json.dumps(data).encode()


# --- running a target -------------------------------------------------------------------------


@dataclass
class Run:
    target: Target
    returncode: int
    wall: float
    stdout: bytes
    stderr: bytes
    log: list[str]
    """The lines this process (matched by pid) added to ``hooks.log``."""


def run_target(target: Target, stdin: bytes, world: World, *, argv_event: str | None = "",
               keep_open: bool = False, umask: int = -1) -> Run:
    """Spawn the target in the project, feed ``stdin``, close it (``keep_open``: never).

    ``argv_event`` replaces the template's event argument; None passes no argument at all.
    Output goes to files, not pipes: nothing to drain while stdin stays open.
    """
    event = target.event if argv_event == "" else argv_event
    argv = [sys.executable, *target.flags, str(HOOKS / target.script),
            *([event] if event else [])]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=out, stderr=err,
                                env=world.env, cwd=world.project, umask=umask)
        try:
            if keep_open:
                assert proc.stdin is not None
                proc.stdin.write(stdin)
                proc.stdin.flush()
                proc.wait(timeout=target.limit_s + 30)
            else:
                proc.communicate(stdin, timeout=target.limit_s + 30)
            wall = time.monotonic() - started
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if proc.stdin is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    try:
        text = world.log_path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        text = ""
    lines = [line for line in text.splitlines() if f" pid={proc.pid} " in line]
    return Run(target, proc.returncode, wall, stdout, stderr, lines)


def run_together(targets: list[Target], stdin: bytes, world: World, *,
                 keep_open: bool = False) -> dict[str, Run]:
    """All targets at once; SessionEnd and the status line (tight limits) a little later."""
    late = [t for t in targets if t.status_line or t.event == "SessionEnd"]
    with ThreadPoolExecutor(len(targets)) as pool:
        futures = {t.id: pool.submit(run_target, t, stdin, world, keep_open=keep_open)
                   for t in targets if t not in late}
        time.sleep(LATE_START_S)
        futures.update({t.id: pool.submit(run_target, t, stdin, world, keep_open=keep_open)
                        for t in late})
        return {name: future.result() for name, future in futures.items()}


def check_contract(run: Run, cause: str | None) -> None:
    """Exit 0, in time, clean stdout, and the cause in the log (or, None: no error logged)."""
    where = f"{run.target.id}: log={run.log} stderr={run.stderr[-500:]!r}"
    assert run.returncode == 0, where
    assert run.wall < run.target.limit_s, f"{run.wall:.2f} s; {where}"
    assert b"Traceback" not in run.stderr, where
    if run.target.status_line:
        assert run.stdout.endswith(b"\n") and run.stdout.count(b"\n") == 1, run.stdout
        assert run.stdout.decode("utf-8").strip(), "a blank status line"
    elif run.stdout.strip():
        output = json.loads(run.stdout)  # exactly one JSON value, or this raises
        assert isinstance(output, dict), run.stdout
        assert run.target.event == "SessionStart", f"{run.target.id} printed {run.stdout!r}"
        assert set(output) == {"hookSpecificOutput"}, output
        assert output["hookSpecificOutput"]["hookEventName"] == "SessionStart"
        assert isinstance(output["hookSpecificOutput"]["additionalContext"], str)
    if cause is None:
        assert not [line for line in run.log if " ERROR " in line], where
    else:
        assert any(re.search(cause, line, re.IGNORECASE) for line in run.log), \
            f"no log line matches {cause!r}; {where}"


def status_line(world: World) -> str:
    run = run_target(STATUS, encode(payload(world)), world)
    check_contract(run, None)
    return run.stdout.decode()


def cli(world: World, *args: str) -> tuple[int, str, str]:
    """``session-core ARGS --project <the world's>`` with no terminal (stdin empty, as a
    script or CI has it): exit code, stdout, stderr."""
    done = subprocess.run([sys.executable, "-m", "session_core", *args, "--project",
                           str(world.project)], env=world.env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=300, check=False)
    return done.returncode, done.stdout, done.stderr


def export(world: World) -> bytes:
    result = run_cli("export", SESSION, "--project", str(world.project), env=world.env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def running(pid: int) -> bool:
    """Alive and not a zombie: a process its parent has not reaped yet, or a killed orphan
    waiting for a reaper that never comes (a container's init), is as good as gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False
