"""Hooks keep saving through damage: the damaged archive is moved aside intact, the newest
backup takes its place, this turn is saved, the status line asks for ``recover``, and after
it nothing is lost."""

from __future__ import annotations

import json
import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from session_core.base import locations

from .conftest import FIXTURES, run_cli
from .hookkit import (
    GARBAGE,
    HOOK_TARGETS_BY_EVENT,
    SESSION,
    World,
    encode,
    export,
    make_world,
    payload,
    run_target,
    status_line,
)

OTHER = FIXTURES / "short.jsonl"


@pytest.fixture
def world(project: Path, isolated_env: Path) -> World:
    return make_world(project, os.environ)


def _stop(world: World) -> list[str]:
    run = run_target(HOOK_TARGETS_BY_EVENT["Stop"], encode(payload(world)), world)
    assert run.returncode == 0, run.log
    return run.log


def _grow(world: World, lines: int = 3) -> None:
    """A new turn: lines of the fixture appended again, with new uuids."""
    extra = []
    for n, line in enumerate(FIXTURES.joinpath(f"{SESSION}.jsonl").read_bytes()
                             .splitlines()[:lines]):
        record = json.loads(line)
        if "uuid" in record:
            record["uuid"] = f"99999999-0000-4000-8000-{os.getpid() % 1000:04d}{n:08d}"
        extra.append(json.dumps(record).encode() + b"\n")
    with open(world.transcript, "ab") as handle:
        handle.write(b"".join(extra))


def _quarantined(world: World) -> list[Path]:
    return sorted((world.archive_db.parent / locations.QUARANTINE_DIR).glob("*/archive.db"))


def _garbage(world: World) -> None:
    for suffix in ("-wal", "-shm"):
        Path(f"{world.archive_db}{suffix}").unlink(missing_ok=True)
    world.archive_db.write_bytes(GARBAGE)


def test_a_stop_on_a_garbage_archive_saves_the_turn_and_recover_loses_nothing(
        world: World) -> None:
    _stop(world)  # saved, and the first automatic backup taken
    other = world.transcript.with_name(OTHER.name)  # a second session, archived, then gone
    other.write_bytes(OTHER.read_bytes())
    assert run_cli("import", str(other), "--project", str(world.project),
                   env=world.env).returncode == 0
    other_bytes = other.read_bytes()
    other.unlink()
    _grow(world)
    _garbage(world)
    log = _stop(world)
    assert any("not a SQLite database" in line for line in log), log
    assert [path.read_bytes() for path in _quarantined(world)] == [GARBAGE]
    assert export(world) == world.transcript.read_bytes()  # this turn is in the successor
    assert "session-core recover" in status_line(world)

    recovered = run_cli("recover", "--project", str(world.project), env=world.env)
    assert recovered.returncode == 0, recovered.stdout.decode() + recovered.stderr.decode()
    assert "session-core recover" not in status_line(world)
    assert export(world) == world.transcript.read_bytes()
    # The second session's only copy was the file now garbage: it cannot come back, and
    # recover says which source could not be read rather than "nothing lost".
    shown = run_cli("export", "55604662", "--project", str(world.project), env=world.env)
    assert shown.returncode == 3 and other_bytes
    assert b"nothing can be read" in recovered.stdout, recovered.stdout
    assert b"Lost         nothing that any source held" not in recovered.stdout


def test_recover_takes_back_what_only_the_damaged_file_held(world: World) -> None:
    """Damage in some frames, which the hooks never read back: the file stays readable, so
    the session only it held comes back with recover, and the damaged one from disk."""
    _stop(world)
    other = world.transcript.with_name(OTHER.name)
    other.write_bytes(OTHER.read_bytes())
    assert run_cli("import", str(other), "--project", str(world.project),
                   env=world.env).returncode == 0
    other_bytes = other.read_bytes()
    other.unlink()
    with sqlite3.connect(world.archive_db) as conn:  # the own session's frames go bad
        rows = conn.execute("SELECT c.id, c.data FROM chunks c JOIN files f ON f.id = c.file_id"
                            " WHERE f.path = ?", (str(world.transcript),)).fetchall()
        for chunk_id, data in rows:
            broken = bytearray(data)
            broken[len(broken) // 2] ^= 0x40
            conn.execute("UPDATE chunks SET data = ? WHERE id = ?", (bytes(broken), chunk_id))
        conn.execute("DELETE FROM digests")
    _grow(world)
    _stop(world)
    recovered = run_cli("recover", "--project", str(world.project), env=world.env)
    assert recovered.returncode == 0, recovered.stdout.decode()
    assert export(world) == world.transcript.read_bytes()
    shown = run_cli("export", "55604662", "--project", str(world.project), env=world.env)
    assert shown.returncode == 0 and shown.stdout == other_bytes


def test_with_auto_recover_off_the_damaged_archive_is_left_alone(world: World) -> None:
    config = Path(locations.project_config_path(world.project))
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('{"auto_recover": false}')
    _stop(world)
    _garbage(world)
    _stop(world)
    assert world.archive_db.read_bytes() == GARBAGE and not _quarantined(world)
    line = status_line(world)
    assert "failed hook run" in line, line


def test_the_scheduled_check_sets_damage_aside_before_the_save(world: World) -> None:
    _stop(world)
    with sqlite3.connect(world.archive_db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("DELETE FROM meta WHERE key = 'checked_at'")  # the check is due
        (root,) = conn.execute("SELECT rootpage FROM sqlite_master"
                               " WHERE name = 'entries_session'").fetchone()
        page = conn.execute("PRAGMA page_size").fetchone()[0]
    with open(world.archive_db, "r+b") as handle:  # an index page: opening still works
        handle.seek((root - 1) * page)
        handle.write(b"\x0a" + b"\xff" * (page - 1))
    _grow(world)
    log = _stop(world)
    assert any("quick_check" in line or "damaged" in line for line in log), log
    assert len(_quarantined(world)) == 1
    assert export(world) == world.transcript.read_bytes()


def test_many_hooks_meeting_the_same_damage_set_it_aside_once(world: World) -> None:
    _stop(world)
    _garbage(world)
    target = HOOK_TARGETS_BY_EVENT["Stop"]
    with ThreadPoolExecutor(6) as pool:
        runs = list(pool.map(lambda _: run_target(target, encode(payload(world)), world),
                             range(6)))
    assert all(run.returncode == 0 for run in runs)
    assert [path.read_bytes() for path in _quarantined(world)] == [GARBAGE]
    assert export(world) == world.transcript.read_bytes()


def test_hooks_creating_the_successor_at_once_never_set_each_other_aside(
        world: World) -> None:
    """After one set-aside (a quarantine exists), 16 prompts at once meet no archive: one of
    them creates it, the others must take that empty-for-a-moment file for new, not lost."""
    folder = world.archive_db.parent / locations.QUARANTINE_DIR / "20260101T000000000000Z"
    folder.mkdir(parents=True)
    (folder / "archive.db").write_bytes(GARBAGE)
    target = HOOK_TARGETS_BY_EVENT["UserPromptSubmit"]
    with ThreadPoolExecutor(16) as pool:
        runs = list(pool.map(lambda n: run_target(target, encode(payload(
            world, session_id=f"s{n:03d}", prompt=f"prompt {n}")), world), range(16)))
    assert all(run.returncode == 0 for run in runs)
    # A prompt that met the archive busy (16 at once) was spooled: a command drains it.
    assert run_cli("status", "--project", str(world.project), env=world.env).returncode == 0
    with sqlite3.connect(world.archive_db) as conn:
        assert conn.execute("SELECT count(*) FROM chat_turns").fetchone() == (16,)
    assert len(list((world.archive_db.parent / locations.QUARANTINE_DIR).iterdir())) == 1
