"""``forget`` takes a session out of the archive for good: its words and bytes leave the file,
and neither ``import``, a hook's save or catch-up, nor a recovery brings it back until
``forget --undo``. It asks first."""

from __future__ import annotations

import json
import os
import sqlite3
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
    run_target,
)
from .hookkit import payload as hook_payload

SECRET_WORD = "zqxwvleakedtokenxyzzy"
"""A word of the session that no other session has: it shows whether its index words went."""
OTHER = "0f0e0d0c-0b0a-4909-8807-060504030201"
RESUMED = "12121212-3434-4565-8787-909090909090"


@pytest.fixture
def world(project: Path, isolated_env: Path) -> World:
    made = make_world(project, os.environ)
    data = made.transcript.read_bytes()
    made.transcript.write_bytes(data + json.dumps({
        "type": "user", "sessionId": SESSION, "uuid": "aaaaaaaa-1111-4222-8333-444444444444",
        "timestamp": "2026-11-23T10:00:00.000Z", "cwd": str(project),
        "message": {"role": "user", "content": f"the key {SECRET_WORD} leaked"}}).encode()
        + b"\n")
    other = made.transcript.with_name(f"{OTHER}.jsonl")  # its own messages: new uuids
    other.write_bytes(data.replace(SESSION.encode(), OTHER.encode()).replace(b"-4", b"-5"))
    return made


def listed(world: World) -> set[str]:
    code, out, err = cli(world, "list", "--json")
    assert code == 0, err
    return {s["uuid"] for s in json.loads(out)}


def archive_bytes(world: World) -> bytes:
    path = world.archive_db
    return b"".join(Path(p).read_bytes() for p in (str(path), f"{path}-wal")
                    if os.path.exists(p))


def fire(world: World, event: str, session: str) -> None:
    data = hook_payload(world, session_id=session, transcript_path=str(world.transcript),
                        hook_event_name=event, last_assistant_message=f"said {SECRET_WORD}")
    check_contract(run_target(HOOK_TARGETS_BY_EVENT[event], encode(data), world), None)


def test_forget_removes_a_session_its_words_and_bytes_and_it_stays_out(world: World) -> None:
    assert cli(world, "import")[0] == 0
    assert listed(world) == {SESSION, OTHER}
    assert SECRET_WORD.encode() in archive_bytes(world)  # the index holds the word as typed

    code, out, err = cli(world, "forget", SESSION[:8])
    assert code == 2 and "--yes" in err, (code, err)  # no terminal to ask on: nothing done
    assert listed(world) == {SESSION, OTHER}

    code, out, err = cli(world, "forget", SESSION[:8], "--yes")
    assert code == 0, err
    assert SESSION in out and "message(s)" in out
    assert listed(world) == {OTHER}
    code, out, _ = cli(world, "search", SECRET_WORD, "--json")
    assert code == 0 and json.loads(out) == []
    assert SECRET_WORD.encode() not in archive_bytes(world)  # gone from the file, not marked
    with sqlite3.connect(world.archive_db) as conn:
        for table, column in (("chat_turns", "session_uuid"), ("session_state", "session_uuid"),
                              ("sessions", "uuid")):
            assert conn.execute(f"SELECT count(*) FROM {table} WHERE {column} = ?",
                                (SESSION,)).fetchone() == (0,), table

    code, _, err = cli(world, "import")
    assert code == 0 and "forgotten" in err
    fire(world, "Stop", SESSION)  # the session itself, still running: its save and its reply
    fire(world, "SessionEnd", SESSION)  # and the catch-up over the whole folder
    assert listed(world) == {OTHER}
    with sqlite3.connect(world.archive_db) as conn:
        assert conn.execute("SELECT count(*) FROM chat_turns WHERE session_uuid = ?",
                            (SESSION,)).fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM session_state WHERE session_uuid = ?",
                            (SESSION,)).fetchone() == (0,)
    code, out, err = cli(world, "verify")
    assert code == 0, out + err

    code, out, err = cli(world, "forget", SESSION[:8], "--undo")
    assert code == 0 and "Archived it again" in out, out + err
    assert listed(world) == {SESSION, OTHER}
    code, out, _ = cli(world, "search", SECRET_WORD, "--json")
    assert code == 0 and json.loads(out)[0]["session_id"] == SESSION


@pytest.mark.parametrize("first", ["copy", "origin"])
def test_a_session_whose_messages_another_holds_is_forgotten_only_with_it(
        world: World, first: str) -> None:
    resumed = world.transcript.with_name(f"{RESUMED}.jsonl")  # the same messages, resumed
    resumed.write_bytes(world.transcript.read_bytes().replace(SESSION.encode(),
                                                              RESUMED.encode()))
    # the copy's lines are indexed under whichever is archived first: asked either way round
    assert cli(world, "import", str(resumed if first == "copy" else world.transcript))[0] == 0
    assert cli(world, "import")[0] == 0
    for one, other in ((RESUMED, SESSION), (SESSION, RESUMED)):
        code, _, err = cli(world, "forget", one[:8], "--yes")
        assert code == 4 and other in err and "--with-copies" in err, (first, one, err)
    assert listed(world) == {SESSION, OTHER, RESUMED}
    code, out, err = cli(world, "forget", SESSION[:8], "--yes", "--with-copies")
    assert code == 0, err
    assert listed(world) == {OTHER}
    code, out, _ = cli(world, "search", SECRET_WORD, "--json")
    assert json.loads(out) == [] and SECRET_WORD.encode() not in archive_bytes(world)
    assert cli(world, "verify")[0] == 0


def test_a_backup_from_before_the_forget_does_not_bring_it_back(world: World) -> None:
    assert cli(world, "import")[0] == 0
    assert cli(world, "backup")[0] == 0
    assert cli(world, "forget", SESSION[:8], "--yes")[0] == 0
    code, out, err = cli(world, "recover")  # merges every backup into the healthy archive
    assert code == 0, out + err
    assert listed(world) == {OTHER}
    with sqlite3.connect(world.archive_db) as conn:  # as if a hook had restored that backup
        conn.execute("DELETE FROM forgotten")
    assert cli(world, "import")[0] == 0  # the file beside the archive still keeps it out
    assert listed(world) == {OTHER}


def test_forget_of_an_unknown_or_forgotten_session_says_so(world: World) -> None:
    assert cli(world, "import")[0] == 0
    assert cli(world, "forget", "ffffffff", "--yes")[0] == 3
    assert cli(world, "forget", SESSION, "--yes")[0] == 0
    code, _, err = cli(world, "forget", SESSION, "--yes")
    assert code == 3 and "was forgotten" in err and "--undo" in err
    code, _, err = cli(world, "forget", OTHER, "--undo")
    assert code == 3 and "no forgotten session" in err


def test_a_backup_a_hook_restores_never_hands_over_a_forgotten_session(world: World) -> None:
    """A hook that sets damage aside restores the newest backup, which may predate the forget:
    the tombstones go back in at once (from the file beside the archive), so no new session is
    told about it, and the next command forgets it again."""
    import shutil

    assert cli(world, "import")[0] == 0
    assert cli(world, "backup")[0] == 0
    backup = max((world.archive_db.parent / "backups").glob("archive-*.db"))
    assert cli(world, "forget", SESSION[:8], "--yes")[0] == 0
    world.transcript.unlink()  # so only the restored backup could bring it back
    shutil.copyfile(backup, world.archive_db)  # what set_aside does, then its tombstones:
    for suffix in ("-wal", "-shm"):
        Path(f"{world.archive_db}{suffix}").unlink(missing_ok=True)
    kept = json.loads((world.archive_db.parent / "forgotten.json").read_text())
    with sqlite3.connect(world.archive_db) as conn:
        for uuid, when in kept.items():
            conn.execute("INSERT INTO forgotten(uuid, forgotten_at) VALUES (?, ?)", (uuid, when))
    new = "77777777-6666-4555-8444-333333333333"
    data = hook_payload(world, session_id=new, hook_event_name="SessionStart", source="startup",
                        transcript_path=str(world.transcript.with_name(f"{new}.jsonl")))
    run = run_target(HOOK_TARGETS_BY_EVENT["SessionStart"], encode(data), world)
    assert run.returncode == 0
    assert SESSION not in run.stdout.decode() and SECRET_WORD not in run.stdout.decode()
    code, _, err = cli(world, "list")
    assert code == 0 and "Forgot again 1 session(s)" in err, err
    assert SESSION not in cli(world, "list")[1]
    assert SECRET_WORD.encode() not in archive_bytes(world)
