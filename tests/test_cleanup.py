"""``cleanup`` removes old sessions by the policy, lists them first, never takes the archive's
only copy of a session (its transcript deleted by Claude Code) unless ``--include-orphans``,
leaves the file smaller and ``verify`` passing, and keeps what it removed from coming back
through ``import`` or a hook's catch-up until the transcript changes."""

from __future__ import annotations

import base64
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .hookkit import (
    HOOK_TARGETS_BY_EVENT,
    SESSION,
    World,
    check_contract,
    cli,
    encode,
    make_world,
    payload,
    run_target,
)

ORPHAN = "0f0e0d0c-0b0a-4909-8807-060504030201"
RECENT = "12121212-3434-4565-8787-909090909090"
RESUMED = "34343434-5656-4787-8989-010101010101"
FIXTURE_DAY = b"2026-11-23T"
BULK_BYTES = 600_000
"""Incompressible text in each session, so that removing one visibly shrinks the file."""


def bulk_prompt(session: str, uuid: str, cwd: str, when: str = "2026-11-23T10:00:00.000Z",
                size: int = BULK_BYTES) -> bytes:
    letters = base64.b32encode(os.urandom(size * 5 // 8)).decode().lower()
    words = " ".join(letters[i:i + 16] for i in range(0, size, 17))
    return json.dumps({"type": "user", "sessionId": session, "uuid": uuid, "timestamp": when,
                       "cwd": cwd, "message": {"role": "user", "content": words}}).encode() + b"\n"


def today(data: bytes) -> bytes:
    return data.replace(FIXTURE_DAY, time.strftime("%Y-%m-%dT", time.gmtime()).encode())


@pytest.fixture
def world(project: Path, isolated_env: Path) -> World:
    """Three sessions: the fixture's (8+ days old, still on disk), an orphan as old (imported,
    then deleted by 'Claude Code'), and one active today."""
    made = make_world(project, os.environ)
    data = made.transcript.read_bytes()
    cwd = str(project)
    made.transcript.write_bytes(data + bulk_prompt(SESSION, "aaaaaaaa-1111-4222-8333-4444444"
                                                   "44444", cwd))
    orphan = made.transcript.with_name(f"{ORPHAN}.jsonl")  # its own messages: new uuids
    orphan.write_bytes(data.replace(SESSION.encode(), ORPHAN.encode()).replace(b"-4", b"-5")
                       + bulk_prompt(ORPHAN, "bbbbbbbb-1111-4222-8333-444444444444", cwd))
    recent = made.transcript.with_name(f"{RECENT}.jsonl")
    recent.write_bytes(today(data.replace(SESSION.encode(), RECENT.encode())
                             .replace(b"-4", b"-6")))
    return made


def listed(world: World) -> set[str]:
    code, out, err = cli(world, "list", "--json", "--limit", "0")
    assert code == 0, err
    return {s["uuid"] for s in json.loads(out)}


def archive_size(world: World) -> int:
    db = str(world.archive_db)
    return sum(os.path.getsize(p) for p in (db, f"{db}-wal") if os.path.exists(p))


def messages(world: World, session: str) -> int:
    code, out, err = cli(world, "show", session, "--json")
    assert code == 0, err
    return int(json.loads(out)["messages"])


def verified(world: World) -> None:
    code, out, err = cli(world, "verify")
    assert code == 0, out + err


def test_cleanup_lists_first_keeps_orphans_shrinks_the_file_and_verify_passes(
        world: World) -> None:
    assert cli(world, "import")[0] == 0
    (world.transcript.parent / f"{ORPHAN}.jsonl").unlink()  # Claude Code deleted it
    assert listed(world) == {SESSION, ORPHAN, RECENT}
    before = archive_size(world)

    code, out, err = cli(world, "cleanup")
    assert code == 2 and "no cleanup policy" in err and "Try:" in err, (code, err)
    code, out, err = cli(world, "cleanup", "--older-than", "0")
    assert code == 2 and ">= 1" in err, (code, err)
    assert "Try: pass --older-than a number of days, 1 or more" in err, err  # not what was done
    assert cli(world, "backup")[0] == 0
    before = archive_size(world)

    code, out, err = cli(world, "cleanup", "--older-than", "5", "--dry-run")
    assert code == 0, err
    assert "Would remove 1 session(s)" in out and SESSION in out, out
    assert f"kept {ORPHAN}" in out and "only copy" in out and "--include-orphans" in out, out
    assert RECENT not in out
    assert listed(world) == {SESSION, ORPHAN, RECENT} and archive_size(world) == before

    code, out, err = cli(world, "cleanup", "--older-than", "5", "--yes")
    assert code == 0, err
    assert out.index(SESSION) < out.index("Removed 1 session(s)"), out  # listed first
    went = re.search(r"went from ([\d,]+) KB to ([\d,]+) KB \(([\d,]+) KB freed\)", out)
    assert went and went[1] != went[2], out  # a precision that shows the change
    assert "Claude Code still keeps 1 of their transcript(s)" in out, out
    assert "1 backup(s) made before still hold them" in out, out  # the way back, named
    assert listed(world) == {ORPHAN, RECENT}
    after = archive_size(world)
    assert after < before - BULK_BYTES // 3, (before, after)  # its bytes left the file
    verified(world)
    code, out, err = cli(world, "cleanup", "--max-size", "100", "--dry-run")
    assert code == 0 and re.fullmatch(r"Nothing to remove: the archive \([\d,]+ KB\) is within"
                                      r" 100 MB\.\n", out), out

    code, out, err = cli(world, "import")  # Claude Code still has it: it stays out
    assert code == 0 and "'session-core cleanup' removed" in err, err
    assert listed(world) == {ORPHAN, RECENT}

    code, out, err = cli(world, "cleanup", "--older-than", "5", "--include-orphans", "--yes")
    assert code == 0 and ORPHAN in out and "still keeps" not in out, out + err
    assert listed(world) == {RECENT}
    assert archive_size(world) < after
    verified(world)


def test_a_removed_session_stays_out_of_catch_up_until_it_is_resumed_then_comes_back_whole(
        world: World) -> None:
    assert cli(world, "import")[0] == 0
    whole = messages(world, SESSION)
    assert cli(world, "cleanup", "--older-than", "5", "--yes")[0] == 0
    assert SESSION not in listed(world)

    data = payload(world, session_id=RECENT, hook_event_name="SessionEnd",
                   transcript_path=str(world.transcript.with_name(f"{RECENT}.jsonl")))
    check_contract(run_target(HOOK_TARGETS_BY_EVENT["SessionEnd"], encode(data), world), None)
    assert SESSION not in listed(world)  # the catch-up over the whole folder left it out

    with open(world.transcript, "ab") as handle:  # resumed: Claude Code writes to it again
        handle.write(json.dumps({
            "type": "user", "sessionId": SESSION, "uuid": "cccccccc-1111-4222-8333-44444444444"
            "4", "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "cwd": str(world.project), "message": {"role": "user", "content": "back again"}})
            .encode() + b"\n")
    assert cli(world, "import")[0] == 0
    assert SESSION in listed(world)
    assert messages(world, SESSION) == whole + 1  # archived again from byte 0, not the tail
    verified(world)


def test_import_of_a_named_file_takes_a_removed_session_back(world: World) -> None:
    assert cli(world, "import")[0] == 0
    assert cli(world, "cleanup", "--older-than", "5", "--yes")[0] == 0
    code, _, err = cli(world, "import", str(world.transcript))
    assert code == 0, err
    assert SESSION in listed(world)


@pytest.mark.parametrize("first", ["copy", "origin"])
def test_a_session_resumed_into_a_newer_one_goes_only_with_it(world: World, first: str) -> None:
    resumed = world.transcript.with_name(f"{RESUMED}.jsonl")  # the same messages, then today's
    resumed.write_bytes(world.transcript.read_bytes().replace(SESSION.encode(),
                                                              RESUMED.encode())
                        + bulk_prompt(RESUMED, "dddddddd-1111-4222-8333-444444444444",
                                      str(world.project),
                                      time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                                      size=1000))
    # the copied lines are indexed under whichever is archived first: either way round
    assert cli(world, "import", str(resumed if first == "copy" else world.transcript))[0] == 0
    assert cli(world, "import")[0] == 0
    code, out, err = cli(world, "cleanup", "--older-than", "5", "--yes")
    assert code == 0, err
    assert f"kept {SESSION}" in out and "(a resume, a fork or a branch), not all as old" in out, out
    assert {SESSION, RESUMED} <= listed(world)
    verified(world)


def test_the_size_policy_removes_the_oldest_first_and_comes_from_the_settings(
        world: World) -> None:
    assert cli(world, "import")[0] == 0
    settings = world.project / ".claude" / "session-core.json"
    settings.write_text(json.dumps({"max_size_mb": "1"}))
    code, _, err = cli(world, "cleanup", "--dry-run")
    assert code == 8 and "max_size_mb" in err, err  # validated like every setting

    settings.write_text(json.dumps({"max_size_mb": 1}))
    with sqlite3.connect(world.archive_db) as conn:  # ORPHAN (still on disk) is the oldest
        conn.execute("UPDATE sessions SET last_ts = '2026-01-01T00:00:00.000Z' WHERE uuid = ?",
                     (ORPHAN,))
    assert archive_size(world) > 1 << 20
    code, out, err = cli(world, "cleanup")  # the settings' policy: listed, then asked about
    assert code == 2 and "Would remove" in out and ORPHAN in out, (code, out, err)
    assert "Error: cleanup asks before it deletes" in err and "Try: pass --yes" in err, err
    assert ORPHAN in listed(world)  # no terminal to ask on, no --yes: nothing removed
    code, out, err = cli(world, "cleanup", "--yes")
    assert code == 0, err
    assert ORPHAN in out.split("Removed")[0], out  # the oldest went first...
    assert ORPHAN not in listed(world) and RECENT in listed(world)  # never one active today
    assert archive_size(world) <= 1 << 20, out
    verified(world)


def test_a_session_is_planned_once_though_only_one_side_names_the_other(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from session_core.store import frames
    from session_core.store.archive import open_archive
    from session_core.transcript import cleanup
    from session_core.transcript.cleanup import Policy
    from session_core.transcript.forget import Sharing

    assert cli(world, "import")[0] == 0
    with sqlite3.connect(world.archive_db) as conn:  # ORPHAN is weighed first, then SESSION
        conn.execute("UPDATE sessions SET last_ts = '2026-01-01T00:00:00.000Z' WHERE uuid = ?",
                     (ORPHAN,))
    one_way = {SESSION: [ORPHAN]}  # a copy found from its own side only

    def sharing_of(self: object, row: object) -> list[str]:
        return one_way.get(row.uuid, [])  # type: ignore[attr-defined]

    monkeypatch.setattr(Sharing, "of", sharing_of)
    with open_archive(world.project) as archive, archive.db.read() as conn:
        found = cleanup.plan(conn, archive.db.used_bytes(), Policy(5, None, False))
        weights = sum(c.weight for c in found.going)
        scale = found.size_before / (frames.totals(conn)[1] or 1)
    assert sorted(found.uuids) == sorted({ORPHAN, SESSION}), found.uuids
    assert found.size_before - found.size_after <= int(weights * scale) + 1


@pytest.mark.parametrize("answer", ["n", "y"])
def test_on_a_terminal_cleanup_asks_and_goes_only_on_yes(world: World, answer: str) -> None:
    import pty

    assert cli(world, "import")[0] == 0
    if answer == "n":  # the question names the backups holding what goes, or says none does
        assert cli(world, "backup")[0] == 0
    master, slave = pty.openpty()
    try:
        os.write(master, answer.encode() + b"\n")
        done = subprocess.run([sys.executable, "-m", "session_core", "cleanup", "--older-than",
                               "5", "--project", str(world.project)], env=world.env,
                              stdin=slave, capture_output=True, text=True, timeout=300,
                              check=False)
    finally:
        os.close(slave)
        os.close(master)
    assert "Would remove 2 session(s)" in done.stdout and "[y/N]" in done.stderr, done
    assert ("1 backup(s) made before still hold them (archive-" if answer == "n" else
            "and no backup holds them") in done.stderr, done
    if answer == "y":
        assert done.returncode == 0 and "Removed 2 session(s)" in done.stdout, done
        assert SESSION not in listed(world)
        verified(world)
    else:
        assert done.returncode == 1 and "Nothing was removed" in done.stderr, done
        assert SESSION in listed(world)
