"""A busy archive never makes the user wait and never loses a turn: while another process holds
the write lock, prompts and Stops return at once, spooling what only their payload carries;
once the lock is released, every prompt and reply of that time is in the archive."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from .hookkit import (
    HOOK_TARGETS_BY_EVENT,
    LOCK_HOLDER,
    World,
    encode,
    export,
    make_world,
    payload,
    run_target,
)

HOLD_S = 30.0
ROUNDS = 5


@pytest.fixture
def world(project: Path, isolated_env: Path) -> World:
    world = make_world(project, os.environ)
    run_target(HOOK_TARGETS_BY_EVENT["Stop"], encode(payload(world)), world)  # an archive
    return world


@pytest.mark.slow
def test_prompts_and_replies_while_the_archive_is_locked_are_all_kept(world: World) -> None:
    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(world.archive_db),
                               str(HOLD_S)], stdout=subprocess.PIPE)
    walls: list[float] = []
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"ready"
        for n in range(ROUNDS):
            for event, field in (("UserPromptSubmit", "prompt"),
                                 ("Stop", "last_assistant_message")):
                text = f"{field} number {n} while locked"
                run = run_target(HOOK_TARGETS_BY_EVENT[event],
                                 encode(payload(world, **{field: text})), world)
                assert run.returncode == 0 and not [x for x in run.log if " ERROR " in x], run.log
                walls.append(run.wall)
                assert holder.poll() is None, "the hook outlasted the lock: it waited for it"
    finally:
        holder.kill()
        holder.wait()
    print(f"\nslowest hook while locked: {max(walls):.3f} s (of {len(walls)})")
    run_target(HOOK_TARGETS_BY_EVENT["Stop"], encode(payload(world)), world)  # drains
    with sqlite3.connect(world.archive_db) as conn:
        turns = conn.execute("SELECT role, count(*) FROM chat_turns GROUP BY role").fetchall()
    assert dict(turns) == {"user": ROUNDS, "assistant": ROUNDS + 2}, turns  # + the Stops around
    assert not list(world.archive_db.parent.glob("spool-*"))  # drained
    assert export(world) == world.transcript.read_bytes()


def test_a_command_drains_what_hooks_spooled(world: World) -> None:
    from session_core.store import spool

    spool.append(str(world.archive_db), {"kind": "turn", "session": "s1", "role": "user",
                                         "at": "2026-12-01T10:00:00.000Z", "text": "kept"})
    from .conftest import run_cli

    assert run_cli("status", "--project", str(world.project), env=world.env).returncode == 0
    with sqlite3.connect(world.archive_db) as conn:
        assert conn.execute("SELECT count(*) FROM chat_turns WHERE session_uuid = 's1'"
                            ).fetchone()[0] == 1
    # A drain cut off before emptying the spool adds nothing twice.
    spool.append(str(world.archive_db), {"kind": "turn", "session": "s1", "role": "user",
                                         "at": "2026-12-01T10:00:00.000Z", "text": "kept"})
    assert run_cli("status", "--project", str(world.project), env=world.env).returncode == 0
    with sqlite3.connect(world.archive_db) as conn:
        assert conn.execute("SELECT count(*) FROM chat_turns WHERE session_uuid = 's1'"
                            ).fetchone()[0] == 1
