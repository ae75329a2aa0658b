"""Transcripts the hooks did not finish are caught up later, by real hook processes.

A session whose SessionEnd never fired (a crash, a closed terminal) loses the lines written after
its last Stop unless a later event looks again; a session run without our hooks is not archived
at all until one does. SessionStart looks at recent sessions that did not end cleanly (cheap at
any archive size), SessionEnd and a daily SessionStart at every transcript of the folder.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from session_core.hook.handlers.catch_up import FULL_PASS_EVERY_S
from session_core.store.meta import FULL_CATCH_UP_AT as FULL_PASS_KEY

from .hookkit import (
    FIXTURE,
    HOOK_TARGETS_BY_EVENT,
    HOOKS,
    SESSION,
    World,
    check_contract,
    encode,
    make_world,
    payload,
    run_target,
    running,
)

OTHER = "0f0e0d0c-0b0a-4909-8807-060504030201"
NEW = "11111111-2222-4333-8444-555555555555"
FIXTURE_DAY = b"2026-11-23T"


@pytest.fixture
def world(project: Path, isolated_env: Path) -> World:
    return make_world(project, os.environ)


def recent(data: bytes) -> bytes:
    """The fixture dated today: 'recent sessions' are judged by their records' timestamps."""
    return data.replace(FIXTURE_DAY, time.strftime("%Y-%m-%dT", time.gmtime()).encode())


def fire(world: World, event: str, session: str, transcript: Path, **fields: object) -> None:
    data = payload(world, session_id=session, transcript_path=str(transcript),
                   hook_event_name=event, **fields)
    check_contract(run_target(HOOK_TARGETS_BY_EVENT[event], encode(data), world), None)


def archived_size(world: World, transcript: Path) -> int | None:
    with sqlite3.connect(world.archive_db) as conn:
        row = conn.execute("SELECT size FROM files WHERE path = ?", (str(transcript),)).fetchone()
    return None if row is None else int(row[0])


def set_full_pass(world: World, seconds_ago: float) -> None:
    with sqlite3.connect(world.archive_db) as conn:
        conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                     (FULL_PASS_KEY, str(int(time.time() - seconds_ago))))


def start_new_session(world: World) -> None:
    fire(world, "SessionStart", NEW, world.transcript.with_name(f"{NEW}.jsonl"),
         source="startup")


def test_the_tail_of_a_session_that_never_ended_is_caught_up_at_the_next_start(
        world: World) -> None:
    """It had ended once and was resumed: resuming reopens it, so its new tail counts too."""
    lines = recent(FIXTURE.read_bytes()).splitlines(keepends=True)
    third = len(lines) // 3
    world.transcript.write_bytes(b"".join(lines[:third]))
    fire(world, "Stop", SESSION, world.transcript)
    fire(world, "SessionEnd", SESSION, world.transcript, reason="prompt_input_exit")
    with open(world.transcript, "ab") as handle:  # resumed: more turns, a Stop, then a crash
        handle.write(b"".join(lines[third:2 * third]))
    fire(world, "Stop", SESSION, world.transcript)
    with open(world.transcript, "ab") as handle:
        handle.write(b"".join(lines[2 * third:]))
    set_full_pass(world, 60)  # a full pass just ran: only the open-session check can find it
    assert archived_size(world, world.transcript) == len(b"".join(lines[:2 * third]))

    start_new_session(world)

    assert archived_size(world, world.transcript) == world.transcript.stat().st_size


def test_a_transcript_written_without_our_hooks_is_archived_at_the_next_session_end(
        world: World) -> None:
    fire(world, "Stop", SESSION, world.transcript)
    foreign = world.transcript.with_name(f"{OTHER}.jsonl")
    foreign.write_bytes(FIXTURE.read_bytes().replace(SESSION.encode(), OTHER.encode()))
    set_full_pass(world, 60)

    start_new_session(world)
    assert archived_size(world, foreign) is None  # startup stays cheap: not looked for

    fire(world, "SessionEnd", SESSION, world.transcript, reason="logout")
    assert archived_size(world, foreign) == foreign.stat().st_size


def test_session_start_checks_every_transcript_when_no_full_pass_ran_for_a_day(
        world: World) -> None:
    fire(world, "Stop", SESSION, world.transcript)
    foreign = world.transcript.with_name(f"{OTHER}.jsonl")
    foreign.write_bytes(FIXTURE.read_bytes().replace(SESSION.encode(), OTHER.encode()))
    set_full_pass(world, FULL_PASS_EVERY_S + 60)

    start_new_session(world)

    assert archived_size(world, foreign) == foreign.stat().st_size
    with sqlite3.connect(world.archive_db) as conn:
        (checked,) = conn.execute("SELECT value FROM meta WHERE key = ?",
                                  (FULL_PASS_KEY,)).fetchone()
    assert time.time() - float(checked) < 60


def test_a_session_that_crashed_before_its_first_stop_is_caught_up_at_the_next_start(
        world: World) -> None:
    """Its prompt was saved while the transcript did not exist yet; then a crash: no Stop,
    nothing of it archived. The prompt marked it open, so the next start finds it."""
    fire(world, "Stop", NEW, world.transcript.with_name("unrelated.jsonl"))  # an archive exists
    world.transcript.unlink()
    fire(world, "UserPromptSubmit", SESSION, world.transcript, prompt="carry on")
    world.transcript.write_bytes(recent(FIXTURE.read_bytes()))
    set_full_pass(world, 60)
    assert archived_size(world, world.transcript) is None

    start_new_session(world)

    assert archived_size(world, world.transcript) == world.transcript.stat().st_size


def test_a_session_resumed_after_its_end_that_crashed_before_a_stop_is_caught_up(
        world: World) -> None:
    lines = recent(FIXTURE.read_bytes()).splitlines(keepends=True)
    world.transcript.write_bytes(b"".join(lines[:10]))
    fire(world, "Stop", SESSION, world.transcript)
    fire(world, "SessionEnd", SESSION, world.transcript, reason="prompt_input_exit")
    fire(world, "SessionStart", SESSION, world.transcript, source="resume")
    fire(world, "UserPromptSubmit", SESSION, world.transcript, prompt="one more thing")
    with open(world.transcript, "ab") as handle:
        handle.write(b"".join(lines[10:]))
    set_full_pass(world, 60)

    start_new_session(world)

    assert archived_size(world, world.transcript) == world.transcript.stat().st_size


def test_a_full_pass_finishes_over_many_files_and_old_layout_subagents(world: World) -> None:
    """More stale files than one pass takes (20), some of them top-level ``agent-*.jsonl``
    (archived as subagents): the next pass finishes, and says so."""
    body = FIXTURE.read_bytes()
    for n in range(25):
        world.transcript.with_name(f"agent-{n:04d}.jsonl").write_bytes(body)
    fire(world, "SessionEnd", SESSION, world.transcript, reason="logout")
    fire(world, "SessionEnd", SESSION, world.transcript, reason="logout")
    with sqlite3.connect(world.archive_db) as conn:
        checked = conn.execute("SELECT value FROM meta WHERE key = ?",
                               (FULL_PASS_KEY,)).fetchone()
    assert checked is not None, "the full pass never finished"
    assert all(archived_size(world, world.transcript.with_name(f"agent-{n:04d}.jsonl"))
               == len(body) for n in range(25))


def _large_transcript(path: Path, megabytes: int) -> None:
    """Distinct small records of another session: slow to parse and index, as a long session
    run without our hooks is."""
    with open(path, "w", encoding="utf-8") as out:
        for n in range(megabytes * 1024 * 1024 // 700):
            out.write(json.dumps({
                "type": "user", "sessionId": OTHER, "uuid": f"00000000-0000-4000-8000-{n:012d}",
                "timestamp": "2026-11-20T10:00:00.000Z", "cwd": "/p",
                "message": {"role": "user", "content": os.urandom(300).hex()}}) + "\n")


def test_a_catch_up_cut_off_at_the_budget_keeps_the_sessions_own_save(world: World) -> None:
    """SessionEnd saves the session, marks it ended, then catches the folder up in what is
    left of its budget. A catch-up the budget cuts off (here a large transcript no hook ever
    saw) loses only its own unfinished work, never the session's last turn or its end."""
    config = world.project / ".claude" / "session-core.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('{"session_end_budget_ms": 700}')
    lines = FIXTURE.read_bytes().splitlines(keepends=True)
    world.transcript.write_bytes(b"".join(lines[:-6]))
    fire(world, "Stop", SESSION, world.transcript)
    world.transcript.write_bytes(b"".join(lines))
    _large_transcript(world.transcript.with_name(f"{OTHER}.jsonl"), 60)
    run = run_target(HOOK_TARGETS_BY_EVENT["SessionEnd"],
                     encode(payload(world, hook_event_name="SessionEnd",
                                    reason="prompt_input_exit")), world)
    check_contract(run, "time budget")  # the scenario: the catch-up was cut off
    assert archived_size(world, world.transcript) == world.transcript.stat().st_size
    with sqlite3.connect(world.archive_db) as conn:
        (reason,) = conn.execute("SELECT end_reason FROM session_state WHERE session_uuid = ?",
                                 (SESSION,)).fetchone()
    assert reason == "prompt_input_exit"


@pytest.mark.parametrize("writes", ["a catch-up", "a digest rebuilt"])
def test_other_sessions_can_save_while_session_start_waits_for_git(world: World,
                                                                  writes: str) -> None:
    """SessionStart catches the last session up (or folds its digest again), then waits for
    ``git status`` (up to 1 s) before it writes the handoff: what it wrote is committed first,
    so another session's hook (SessionEnd has 1.5 s in all) never waits on the lock for git."""
    subprocess.run(["git", "init", "-q", str(world.project)], check=True)
    lines = recent(FIXTURE.read_bytes()).splitlines(keepends=True)
    world.transcript.write_bytes(b"".join(lines[:10] if writes == "a catch-up" else lines))
    fire(world, "Stop", SESSION, world.transcript)  # left open
    with sqlite3.connect(world.archive_db) as conn:
        if writes == "a catch-up":
            world.transcript.write_bytes(b"".join(lines))
        else:
            conn.execute("DELETE FROM digests")
    set_full_pass(world, 60)

    def written() -> bool:  # and committed: seen from another connection
        if writes == "a catch-up":
            return archived_size(world, world.transcript) == world.transcript.stat().st_size
        with sqlite3.connect(world.archive_db) as conn:
            return bool(conn.execute("SELECT count(*) FROM digests").fetchone()[0])

    bin_dir, started, release = world.project / "bin", world.project / "git-started", \
        world.project / "git-release"
    bin_dir.mkdir()
    (bin_dir / "git").write_text(f"#!/bin/sh\necho $$ > '{started}'\n"
                                 f"while [ ! -e '{release}' ]; do sleep 0.01; done\n")
    (bin_dir / "git").chmod(0o755)
    env = {**world.env, "PATH": f"{bin_dir}{os.pathsep}{world.env['PATH']}"}
    data = payload(world, session_id=NEW, transcript_path=str(world.transcript.with_name(
        f"{NEW}.jsonl")), hook_event_name="SessionStart", source="startup")
    hook = subprocess.Popen([sys.executable, str(HOOKS / "run.py"), "SessionStart"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
                            cwd=world.project)
    try:
        assert hook.stdin is not None
        hook.stdin.write(encode(data))
        hook.stdin.close()
        while not written():
            assert hook.poll() is None, f"SessionStart ended before {writes} was committed"
            time.sleep(0.005)
        with sqlite3.connect(world.archive_db, timeout=5) as conn:
            conn.execute("BEGIN IMMEDIATE")
            git_running = running(int(started.read_text()))  # SessionStart still waits
            conn.execute("ROLLBACK")
        assert git_running
    finally:
        release.touch()
        assert hook.stdout is not None
        out = hook.stdout.read()
        hook.wait(timeout=30)
    assert hook.returncode == 0 and b"Previous session" in out



def test_a_session_start_cut_off_in_its_catch_up_keeps_what_it_finished(world: World) -> None:
    """SessionStart (resume) saves its own transcript, then catches up open sessions newest
    first; a large one the budget cuts off loses only its own work: the session's own save
    and the sessions caught up before it are committed."""
    config = world.project / ".claude" / "session-core.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('{"hook_budget_ms": 900}')
    lines = recent(FIXTURE.read_bytes()).splitlines(keepends=True)
    small = world.transcript.with_name(f"{NEW}.jsonl")
    large = world.transcript.with_name(f"{OTHER}.jsonl")
    for session, path in ((NEW, small), (OTHER, large)):  # both open, nothing archived yet
        fire(world, "UserPromptSubmit", session, path, prompt="carry on")
    _large_transcript(large, 60)
    os.utime(large, (time.time() - 60, time.time() - 60))  # older: caught up last
    small.write_bytes(recent(FIXTURE.read_bytes()).replace(SESSION.encode(), NEW.encode()))
    world.transcript.write_bytes(b"".join(lines[:10]))
    fire(world, "Stop", SESSION, world.transcript)
    world.transcript.write_bytes(b"".join(lines))  # the resumed session's own new lines
    set_full_pass(world, 60)
    run = run_target(HOOK_TARGETS_BY_EVENT["SessionStart"],
                     encode(payload(world, hook_event_name="SessionStart", source="resume")),
                     world)
    check_contract(run, "time budget")  # the scenario: cut off inside the large one
    assert archived_size(world, world.transcript) == world.transcript.stat().st_size
    assert archived_size(world, small) == small.stat().st_size
    assert archived_size(world, large) is None
