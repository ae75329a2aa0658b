"""The hook contract, checked on real processes fed raw bytes: whatever arrives, exit 0, in time.

Claude Code runs every hook of ``settings.template.json`` as ``<python> hooks/<script>.py
<Event>`` with the payload on stdin, and the status line with no argument. A hook that fails
loudly, hangs or prints stray text blocks the user or pollutes the model's context, so for every
entrypoint/event pair and a corpus of malformed inputs (and a damaged, locked or half-written
world) each run must: exit 0; finish inside the event's budget plus a little slack; print nothing
or exactly one JSON object (the status line: exactly one text line); and leave a line in
``hooks.log`` naming the cause, since the log is the only place a user can learn it.

The slow cases (a lock held for 10 s, stdin left open on half a payload) run every target
concurrently, once per module; the others run one process per test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from session_core.hook import log as hooklog
from session_core.hook.registry import EVENTS
from session_core.store.archive import open_archive

from .conftest import REPO
from .hookkit import (
    ALL_TARGETS,
    FIXTURE,
    GARBAGE,
    HOOK_TARGETS,
    HOOK_TARGETS_BY_EVENT,
    HOOKS,
    LOCK_HOLD_S,
    LOCK_HOLDER,
    SCRIPTS,
    STATUS,
    TWENTY_MB,
    Run,
    Target,
    World,
    check_contract,
    encode,
    export,
    isolated,
    make_world,
    module_world,
    payload,
    run_target,
    run_together,
    status_line,
)


def test_the_template_installs_every_event_once() -> None:
    """Guards the parametrisation: an entry the template lacks would go untested here."""
    events = [t.event for t in HOOK_TARGETS]
    assert len(set(events)) == len(events) == 9
    assert set(events) >= EVENTS
    assert all((HOOKS / t.script).is_file() for t in ALL_TARGETS)
    assert json.loads((REPO / "settings.template.json").read_text())["statusLine"]


@pytest.fixture
def world(project: Path, isolated_env: Path) -> World:
    return make_world(project, os.environ)


# --- the corpus ---------------------------------------------------------------------------------


@cache
def twenty_mb_of_text() -> bytes:
    line = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\n"
    return (line * (TWENTY_MB // len(line) + 1))[:TWENTY_MB]


def _garbage_archive(world: World) -> None:
    """A real archive first, then its file overwritten: what a bad copy or a stray tool leaves."""
    with isolated(world.env):
        open_archive(world.project).close()
    for suffix in ("-wal", "-shm"):
        Path(f"{world.archive_db}{suffix}").unlink(missing_ok=True)
    world.archive_db.write_bytes(GARBAGE)


@dataclass(frozen=True)
class Case:
    stdin: Callable[[World], bytes]
    cause: str | None
    """What the hook's log line must say (a regex); None: nothing wrong, no ERROR logged."""
    status_cause: str | None = None
    """The same for the status line, which reads stdin and nothing else the cases break."""
    unaffected: frozenset[str] = frozenset()
    """Events whose handlers never touch what the case breaks (PostCompact reads no
    transcript): they must simply succeed."""
    setup: Callable[[World], None] | None = None
    keep_open: bool = False


def _broken_line(world: World) -> None:
    """Half a record, then a good one: the bad line is kept, not indexed, and nothing fails."""
    lines = FIXTURE.read_bytes().splitlines(keepends=True)
    world.transcript.write_bytes(b"".join(lines[:-1]) + lines[-1][:40] + b"\n" + lines[-1])


def _missing(world: World) -> bytes:
    return encode(payload(world, transcript_path=str(world.transcript.with_name("gone.jsonl"))))


def _directory(world: World) -> bytes:
    return encode(payload(world, transcript_path=str(world.transcript.with_name("dir.jsonl"))))


READERS = frozenset({"PreToolUse", "PostToolUseFailure"})
"""Recall's events: one read-only lookup, no transcript, nothing saved; trouble with the archive
is the saving hooks' to report, so these succeed quietly and leave it as it is."""

CASES: dict[str, Case] = {
    "empty-stdin": Case(lambda w: b"", r"stdin was empty", r"stdin was empty"),
    "not-json": Case(lambda w: b"\xff{ this is not JSON,", r"not JSON", r"not JSON"),
    "json-array": Case(lambda w: b'[{"session_id": "x"}]', r"not an object", r"not an object"),
    "truncated-json": Case(lambda w: encode(payload(w))[:60], r"not JSON", r"not JSON"),
    "wrong-types": Case(lambda w: encode({"session_id": 5, "transcript_path": [], "cwd": {}}),
                        r"session_id is int.*transcript_path is list.*cwd is dict"),
    "20-mb-text": Case(lambda w: twenty_mb_of_text(), r"more than \d+ bytes",
                       r"more than \d+ bytes"),
    "broken-transcript-line": Case(lambda w: encode(payload(w)), None, setup=_broken_line),
    "transcript-missing": Case(_missing, r"gone\.jsonl does not exist",
                               unaffected=frozenset({"PostCompact", *READERS})),
    "transcript-is-directory": Case(
        _directory, r"dir\.jsonl is a directory",
        unaffected=frozenset({"PostCompact", *READERS}),
        setup=lambda w: w.transcript.with_name("dir.jsonl").mkdir()),
    "garbage-archive": Case(lambda w: encode(payload(w)), r"not a SQLite database",
                            unaffected=READERS, setup=_garbage_archive),
    "stdin-never-closes": Case(lambda w: encode(payload(w)), None, keep_open=True),
}


def _cause(case: Case, target: Target) -> str | None:
    if target.status_line:
        return case.status_cause
    return None if target.event in case.unaffected else case.cause


@pytest.mark.parametrize("target", ALL_TARGETS, ids=lambda t: t.id)
@pytest.mark.parametrize("name", list(CASES))
def test_malformed_input(world: World, name: str, target: Target) -> None:
    case = CASES[name]
    if case.setup is not None:
        case.setup(world)
    run = run_target(target, case.stdin(world), world, keep_open=case.keep_open)
    check_contract(run, _cause(case, target))
    if name == "garbage-archive" and (target.status_line or target.event in READERS):
        assert world.archive_db.read_bytes() == GARBAGE, "the status line never touches it"
    elif name == "garbage-archive":  # auto_recover: moved aside intact, and saving goes on
        kept = list((world.archive_db.parent / "quarantine").glob("*/archive.db"))
        assert [path.read_bytes() for path in kept] == [GARBAGE], "never changed or deleted"
        assert world.archive_db.read_bytes().startswith(b"SQLite format 3\x00")
        assert "session-core recover" in status_line(world)
    if name == "broken-transcript-line" and not target.status_line \
            and target.event not in {"PostCompact", *READERS}:
        assert export(world) == world.transcript.read_bytes(), "every byte kept, bad line too"
    if name == "stdin-never-closes" and not target.status_line \
            and target.event not in {"PostCompact", *READERS}:
        # The object was whole: the hook went on and saved, it did not wait for EOF.
        assert world.archive_db.exists() and world.health().get("failures", 0) == 0


@pytest.mark.parametrize("how", ["argv", "payload"])
@pytest.mark.parametrize("script", SCRIPTS)
def test_unknown_event(world: World, script: str, how: str) -> None:
    """``NoSuchEvent`` as the argument, or (no argument) as the payload's hook_event_name."""
    target = Target(script, "NoSuchEvent")
    if how == "argv":
        run = run_target(target, encode(payload(world)), world)
    else:
        stdin = encode(payload(world, hook_event_name="NoSuchEvent"))
        run = run_target(target, stdin, world, argv_event=None)
    check_contract(run, r"unknown hook event 'NoSuchEvent'")
    assert not world.archive_db.exists(), "nothing may run for an event we do not know"


# --- the slow cases, every target at once -------------------------------------------------------


@pytest.fixture(scope="module")
def locked_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """Another process holds ``BEGIN EXCLUSIVE`` on the archive for 10 s while all targets run."""
    world = module_world(tmp_path_factory.mktemp("locked"))
    with isolated(world.env):
        open_archive(world.project).close()
    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(world.archive_db),
                               str(LOCK_HOLD_S)], stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"ready"
        return run_together(ALL_TARGETS, encode(payload(world)), world)
    finally:
        holder.kill()
        holder.wait()


@pytest.fixture(scope="module")
def half_open_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """Half a payload on a stdin that is never closed: the read must give up, not hang."""
    world = module_world(tmp_path_factory.mktemp("half-open"))
    half = encode(payload(world))[:40]
    return run_together(ALL_TARGETS, half, world, keep_open=True)


@pytest.mark.parametrize("target", ALL_TARGETS, ids=lambda t: t.id)
def test_archive_locked_by_another_writer(locked_runs: dict[str, Run], target: Target) -> None:
    quiet = target.status_line or target.event in READERS  # readers: WAL lets them read
    check_contract(locked_runs[target.id], None if quiet else r"locked|budget|busy")


@pytest.mark.parametrize("target", ALL_TARGETS, ids=lambda t: t.id)
def test_stdin_never_closes_on_half_a_payload(half_open_runs: dict[str, Run],
                                              target: Target) -> None:
    check_contract(half_open_runs[target.id], r"stdin still open")


# --- what works must work -----------------------------------------------------------------------


@pytest.mark.parametrize("target", HOOK_TARGETS, ids=lambda t: t.id)
def test_valid_payload_runs_clean(world: World, target: Target) -> None:
    """Every registered handler exists and succeeds: no ERROR, no failure counted."""
    run = run_target(target, encode(payload(world)), world)
    check_contract(run, None)
    assert world.health().get("failures", 0) == 0, world.health()


def test_stop_archives_the_transcript_byte_for_byte(world: World) -> None:
    check_contract(run_target(HOOK_TARGETS_BY_EVENT["Stop"], encode(payload(world)), world),
                   None)
    assert export(world) == FIXTURE.read_bytes()
    assert "msgs saved" in status_line(world)


def test_a_live_state_of_nothing_saved_reads_as_no_state(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A SessionStart (the install's check) writes 0 saved: not '0 msgs saved 0s ago'."""
    from session_core.base.locations import archive_dir
    from session_core.hook import statusline
    from session_core.hook.live import write_live

    monkeypatch.delenv("CLAUDE_PROJECT_DIR", raising=False)
    monkeypatch.delenv("SESSION_CORE_DATA_DIR", raising=False)
    payload: dict[str, object] = {"session_id": "s-1", "cwd": str(tmp_path)}
    folder = archive_dir(str(tmp_path))
    os.makedirs(os.path.join(folder, "live"), exist_ok=True)
    write_live(folder, "s-1", 0)
    assert statusline.render(payload, colour=False) == "archive: nothing saved yet"
    write_live(folder, "s-1", 3)
    assert "● 3 msgs saved" in statusline.render(payload, colour=False)


def _no_auto_recover(world: World) -> None:
    """Damage left in place (``auto_recover`` off): hook runs fail, and say so."""
    config = world.project / ".claude" / "session-core.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('{"auto_recover": false}')


def test_status_line_warns_after_a_failed_run_and_clears_after_a_good_one(world: World) -> None:
    stop = HOOK_TARGETS_BY_EVENT["Stop"]
    _no_auto_recover(world)
    _garbage_archive(world)
    check_contract(run_target(stop, encode(payload(world)), world), r"not a SQLite database")
    line = status_line(world)
    assert "failed" in line and "msgs saved" not in line, line
    world.archive_db.unlink()  # the user moves the damaged file aside
    check_contract(run_target(stop, encode(payload(world)), world), None)
    line = status_line(world)
    assert "msgs saved" in line and "failed" not in line, line


def test_a_prompt_catches_up_what_stop_missed(world: World) -> None:
    """Stop ran while the transcript held half the lines; the next prompt saves the rest."""
    lines = FIXTURE.read_bytes().splitlines(keepends=True)
    world.transcript.write_bytes(b"".join(lines[: len(lines) // 2]))
    check_contract(run_target(HOOK_TARGETS_BY_EVENT["Stop"], encode(payload(world)), world),
                   None)
    assert export(world) == b"".join(lines[: len(lines) // 2])
    with open(world.transcript, "ab") as handle:
        handle.write(b"".join(lines[len(lines) // 2:]))
    submit = HOOK_TARGETS_BY_EVENT["UserPromptSubmit"]
    check_contract(run_target(submit, encode(payload(world)), world), None)
    assert export(world) == FIXTURE.read_bytes()


def test_a_run_that_never_opens_the_archive_keeps_the_warning(world: World) -> None:
    """PostCompact without a summary touches nothing: it must not clear a damaged archive's
    warning, or the status line would go green over a broken archive."""
    _no_auto_recover(world)
    _garbage_archive(world)
    stop = next(t for t in ALL_TARGETS if t.event == "Stop")
    run_target(stop, encode(payload(world)), world)
    assert world.health().get("failures", 0) >= 1
    post_compact = next(t for t in ALL_TARGETS if t.event == "PostCompact")
    run_target(post_compact, encode(payload(world, compact_summary=None)), world)
    assert world.health().get("failures", 0) >= 1


def test_the_watchdog_ends_a_stuck_hook_at_its_budget_with_exit_0(tmp_path: Path) -> None:
    """The last line of defence (a hang in C, a slow disk): the deadline may move once."""
    code = ("import time, pathlib\n"
            "from session_core.hook.watchdog import Watchdog\n"
            f"w = Watchdog('Stop', pathlib.Path({str(tmp_path)!r}))\n"
            "w.arm(time.monotonic() + 5)\n"
            "w.arm(time.monotonic() + 0.3)\n"
            "time.sleep(10)\n"
            "print('not reached')\n")
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30,
                            check=False)
    assert result.returncode == 0 and result.stdout == b""
    assert time.monotonic() - started < 3
    assert "gave up at the time budget" in Path(hooklog.log_path()).read_text()


def test_one_failing_handler_costs_only_its_own_writes(world: World) -> None:
    """A Stop's handlers write in one transaction (one commit, one sync for the event), each
    under a savepoint: the reply that cannot be stored is logged and rolled back alone, and the
    transcript saved by the handler before it is committed all the same."""
    with isolated(world.env):
        open_archive(world.project).close()
    import sqlite3

    with sqlite3.connect(world.archive_db) as conn:
        conn.execute("CREATE TRIGGER no_replies BEFORE INSERT ON chat_turns"
                     " BEGIN SELECT RAISE(ABORT, 'replies refused here'); END")
    run = run_target(HOOK_TARGETS_BY_EVENT["Stop"], encode(payload(world)), world)
    assert run.returncode == 0 and any("replies refused here" in line for line in run.log)
    assert export(world) == FIXTURE.read_bytes()
    with sqlite3.connect(world.archive_db) as conn:
        assert conn.execute("SELECT count(*) FROM chat_turns").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM session_state").fetchone()[0] == 1


def test_at_umask_000_everything_a_hook_creates_is_private(world: World) -> None:
    """Transcripts hold code, paths and secrets: no file or folder of ours is readable, let
    alone writable, by others, whatever the user's umask."""
    for target in (*HOOK_TARGETS, STATUS):
        run_target(target, encode(payload(world)), world, umask=0)
    assert world.archive_db.exists()
    created = [world.archive_db.parent, *world.archive_db.parent.rglob("*"), world.log_path,
               world.log_path.parent]
    loose = [f"{path} {path.stat().st_mode & 0o777:o}" for path in created
             if path.exists() and path.stat().st_mode & 0o077]
    assert not loose, loose


def test_subagent_stop_archives_the_agents_meta_json_too(world: World) -> None:
    """Claude Code keeps an agent's type and description beside its transcript; once the
    session's transcripts are deleted, only the archive has them."""
    agents = world.transcript.with_suffix("") / "subagents"
    agents.mkdir(parents=True)
    agent = agents / "agent-a1b2c3.jsonl"
    agent.write_bytes(FIXTURE.read_bytes().splitlines(keepends=True)[0])
    meta = agents / "agent-a1b2c3.meta.json"
    meta.write_text('{"agentType": "Explore", "description": "look around"}')
    run = run_target(HOOK_TARGETS_BY_EVENT["SubagentStop"],
                     encode(payload(world, agent_transcript_path=str(agent))), world)
    check_contract(run, None)
    with isolated(world.env), open_archive(world.project) as archive:
        kinds = dict(archive.db.conn.execute("SELECT path, kind FROM files").fetchall())
    assert kinds.get(str(meta)) == "sidecar" and kinds.get(str(agent)) == "subagent", kinds


def test_a_subagents_last_lines_written_after_its_stop_are_saved_at_the_next_stop(
        world: World) -> None:
    """SubagentStop fires before Claude Code writes the agent's last lines (its final tool
    results among them): the session's next Stop, or its end, archives them."""
    agents = world.transcript.with_suffix("") / "subagents"
    agents.mkdir(parents=True)
    agent = agents / "agent-d4e5f6.jsonl"
    lines = FIXTURE.read_bytes().splitlines(keepends=True)
    agent.write_bytes(b"".join(lines[:3]))
    check_contract(run_target(HOOK_TARGETS_BY_EVENT["SubagentStop"],
                              encode(payload(world, agent_transcript_path=str(agent))), world),
                   None)
    agent.write_bytes(b"".join(lines))  # the rest arrives after the SubagentStop
    for event in ("Stop", "SessionEnd"):
        check_contract(run_target(HOOK_TARGETS_BY_EVENT[event], encode(payload(world)), world),
                       None)
        with isolated(world.env), open_archive(world.project) as archive:
            conn = archive.db.conn
            size = conn.execute("SELECT size FROM files WHERE path = ?", (str(agent),)).fetchone()
        assert size == (agent.stat().st_size,), event
        agent.write_bytes(b"".join(lines) + lines[0])  # and a line more before the end
