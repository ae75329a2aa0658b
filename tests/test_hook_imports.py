"""What a hook process imports: every import is paid again on every event and status refresh.

Claude Code starts a fresh interpreter per hook event and per status-line refresh, so the start-up
of these processes is most of what a user waits for (bench/hook_bench.py measures it). The
modules kept off the path here each cost 1 to 150 ms; this test names the one that crept back.
Run with ``-S`` (no site, no editable-install finder that would import them first) and the
dependencies on PYTHONPATH, so the list is the hook's own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import zstandard

from .hookkit import (
    HOOK_TARGETS_BY_EVENT,
    HOOKS,
    SESSION,
    STATUS,
    Target,
    World,
    check_contract,
    encode,
    make_world,
    payload,
    run_target,
)

NEVER = {"pathlib", "typing", "platform", "pydantic", "dataclasses", "threading", "logging",
         "traceback", "importlib", "platformdirs", "hashlib", "subprocess", "shutil", "tempfile",
         "zstandard", "json", "re", "enum"}
"""Off every hook path. ``zstandard`` is its package ``__init__``: codec loads only the C
backend (``zstandard.backend_c``); ``json`` is replaced by ``jsonlite``."""
SESSION_START_RUNS_GIT = {"subprocess", "threading", "re", "enum"}
"""The one ``git status`` of a session start goes through ``subprocess`` (which brings these):
only SessionStart pays for it, and only when there is a previous session to hand over."""
NEVER_IN_STATUS_LINE = NEVER | {"sqlite3", "zstandard.backend_c", "datetime", "collections"}


@pytest.fixture
def world(project: Path, isolated_env: Path) -> World:
    made = make_world(project, os.environ)
    check_contract(run_target(HOOK_TARGETS_BY_EVENT["Stop"], encode(payload(made)), made), None)
    return made  # an archive with one session: SessionStart has a handoff to build


def imported_by(target: Target, data: dict[str, object], world: World) -> set[str]:
    dependencies = os.path.dirname(os.path.dirname(zstandard.__file__))
    env = dict(world.env, PYTHONPATH=os.pathsep.join([world.env["PYTHONPATH"], dependencies]))
    argv = [sys.executable, "-S", "-X", "importtime", str(HOOKS / target.script),
            *([target.event] if target.event else [])]
    done = subprocess.run(argv, input=encode(data), capture_output=True, env=env,
                          cwd=world.project, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stderr.decode().splitlines()
    assert lines and lines[0].startswith("import time:"), done.stderr[-2000:]
    return {line.rsplit("|", 1)[-1].strip() for line in lines[1:] if line.startswith("import")}


@pytest.mark.parametrize("event", ["SessionStart", "Stop", "UserPromptSubmit", "SessionEnd"])
def test_hooks_keep_expensive_modules_off_their_path(world: World, event: str) -> None:
    data = payload(world, hook_event_name=event,
                   session_id="11111111-2222-4333-8444-555555555555" if event == "SessionStart"
                   else SESSION)
    modules = imported_by(HOOK_TARGETS_BY_EVENT[event], data, world)
    assert "session_core.hook.run" in modules  # the hook did run
    if event == "SessionStart":
        assert "session_core.handoff.text" in modules  # and built a handoff
        assert modules & (NEVER - SESSION_START_RUNS_GIT) == set()
    else:
        assert modules & NEVER == set()


def test_a_settings_file_brings_no_pydantic_onto_the_hook_path(world: World) -> None:
    """Turning a setting on is what a settings file is for: it must not cost every hook ~65 ms."""
    settings = world.project / ".claude" / "session-core.json"
    settings.write_text('{"checkpoint_every_turns": 0, "handoff_chars": 3000}')
    modules = imported_by(HOOK_TARGETS_BY_EVENT["Stop"], payload(world), world)
    assert "session_core.hook.run" in modules and "session_core.base.settings" in modules
    assert modules & NEVER == set()


def test_the_status_line_imports_neither_json_nor_sqlite(world: World) -> None:
    modules = imported_by(STATUS, payload(world), world)
    assert "session_core.hook.statusline" in modules
    assert modules & NEVER_IN_STATUS_LINE == set()
