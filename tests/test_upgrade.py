"""An archive written before digests moved into it (schema v2, ``fixtures/archive_v2``, made by
the code of abe3f22) upgrades with every row, every byte, and a handoff made of all of it."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from session_core.base import locations
from session_core.handoff.notes import (
    newer_reply,
    resume_note,
    session_digest,
    subagent_digests,
)
from session_core.handoff.text import EndState, previous_session, resumed
from session_core.store import files, frames, state
from session_core.store.archive import LATEST_VERSION, open_archive
from session_core.store.migrations import DERIVED_TABLES
from session_core.store.summary import session_summary
from session_core.transcript.digest import digest_lines

from .conftest import FIXTURES, REPO, run_cli

OLD = FIXTURES / "archive_v2"
EXPECTED: dict[str, Any] = json.loads((OLD / "expected.json").read_text())
NEW_SESSION = "99999999-8888-4777-8666-555555555555"
RECENT = "6b32797c-28fc-4a1f-b9c8-863fe6c99815"


def rows_added(table: str, from_version: int) -> int:
    """What an upgrade adds to a table: a row per migration step, the index version."""
    return {"migrations": LATEST_VERSION - from_version, "meta": 1}.get(table, 0)


@pytest.fixture
def upgraded(project: Path) -> Path:
    """The old archive, in place of this project's, upgraded the way a user's is: by the first
    ``session-core`` command after the update."""
    target = Path(locations.archive_path(project))
    target.parent.mkdir(parents=True)
    shutil.copyfile(OLD / "archive.db", target)
    (target.parent / "digests").mkdir()  # what the old code kept beside the archive
    (target.parent / "digests" / f"{RECENT}.json").write_text("{}")
    done = run_cli("status", "--json", "--project", str(project))
    assert done.returncode == 0, done.stderr.decode()
    assert b"digest(s) rebuilt" in done.stderr
    assert json.loads(done.stdout)["schema_version"] == LATEST_VERSION
    assert b"Hashed the archived frames" in done.stderr
    assert b"Indexed" in done.stderr  # its words derived again, tool results whole
    return project


def test_every_row_and_every_byte_survive(upgraded: Path) -> None:
    with open_archive(upgraded) as archive:
        conn = archive.db.conn
        for table, count in EXPECTED["rows"].items():
            assert conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] == count + (
                rows_added(table, 2)), table
        for rel, digest in EXPECTED["files"].items():
            record = files.at_path(conn, os.path.join(EXPECTED["root"], rel))
            assert record is not None, rel
            assert hashlib.sha256(b"".join(frames.read(conn, record))).hexdigest() == digest, rel
        for query, hits in EXPECTED["search"].items():
            found = sorted(r[0] for r in conn.execute(
                "SELECT s.uuid || ' ' || e.offset FROM entries_fts f JOIN entries e"
                " ON e.id = f.rowid JOIN sessions s ON s.id = e.session_id"
                " WHERE entries_fts MATCH ?", (query,)))
            assert set(hits) <= set(found), query  # and more: tool results are indexed whole
        with_digest = conn.execute("SELECT count(*) FROM digests").fetchone()[0]
        assert with_digest == conn.execute(
            "SELECT count(*) FROM files WHERE kind IN ('session', 'subagent')"
            " AND committed > 0").fetchone()[0]
        times = [r[0] for r in conn.execute("SELECT at FROM chat_turns UNION ALL SELECT"
                                            " last_event_at FROM session_state")]
        assert times and all(t.endswith("Z") and len(t) == 24 for t in times), times
    assert not (Path(locations.archive_dir(upgraded)) / "digests").exists()


def _fresh_digests(conn: sqlite3.Connection, session_id: int, uuid: str) -> list[Any]:
    """The session's digests folded from scratch from its archived bytes, main file first."""
    records = files.of_session(conn, session_id)
    main = files.main_file(records, uuid)
    subagents = [r for r in records
                 if r.kind == "subagent" and "agent-acompact" not in r.rel_path]
    return [digest_lines(uuid, b"".join(frames.read(conn, r)).splitlines(),
                         sidechain=r.kind == "subagent") for r in (main, *subagents)]


def test_the_rebuilt_digests_are_those_of_the_archived_bytes(upgraded: Path) -> None:
    """The handoff text changed on purpose since the fixture was made (issue 10); what an
    upgrade must keep is that the handoff is made of everything archived: the digests it
    rebuilt are those of a fresh fold, so the texts are too, and resume says what it said."""
    with open_archive(upgraded) as archive:
        conn, limit = archive.db.conn, archive.settings.max_indexed_line_bytes
        for uuid, old in EXPECTED["handoffs"].items():
            row = conn.execute("SELECT id FROM sessions WHERE uuid = ?", (uuid,)).fetchone()
            digest = session_digest(archive.db, row[0], uuid, limit)
            subagents = subagent_digests(archive.db, row[0], limit)
            fresh = _fresh_digests(conn, row[0], uuid)
            assert [d.to_state() for d in (digest, *subagents)] == \
                [d.to_state() for d in fresh], uuid
            known = state.get(conn, uuid)
            left = EndState(known.git_branch if known else None,
                            known.git_commit if known else None, None)
            assert previous_session(digest, left, 4000, newer_reply(conn, uuid, digest),
                                    subagents=subagents) == previous_session(
                fresh[0], left, 4000, newer_reply(conn, uuid, fresh[0]), subagents=fresh[1:])
            # resume says what it said, but counted as list counts (subagents' too), so more
            said = int(old["resumed"].split("resumed; ")[1].split(" ")[0])
            listed = session_summary(conn, uuid).messages
            assert resume_note(conn, uuid) == resumed(uuid, listed) and listed >= said, uuid


@pytest.mark.parametrize("source", ["startup", "compact", "resume"])
def test_a_real_session_start_hands_over_the_upgraded_history(upgraded: Path,
                                                               source: str) -> None:
    session = NEW_SESSION if source == "startup" else RECENT
    payload = {"session_id": session, "cwd": str(upgraded), "source": source,
               "hook_event_name": "SessionStart",
               "transcript_path": str(upgraded / "gone" / f"{session}.jsonl")}
    done = subprocess.run([sys.executable, str(REPO / "hooks" / "run.py"), "SessionStart"],
                          input=json.dumps(payload).encode(), capture_output=True, timeout=60,
                          check=False, env={**os.environ, "CLAUDE_PROJECT_DIR": str(upgraded)})
    assert done.returncode == 0, done.stderr
    if source == "resume":  # the old note, counted as list counts (fixD)
        with open_archive(upgraded) as archive:
            listed = session_summary(archive.db.conn, session).messages
        assert json.loads(done.stdout) == {"hookSpecificOutput": {
            "hookEventName": "SessionStart", "additionalContext": resumed(session, listed)}}
        return
    said = json.loads(done.stdout)["hookSpecificOutput"]["additionalContext"]
    for fact in ("retry.py", "String to replace not found"):  # what the old note said too
        assert fact in said, said
    if source == "startup":
        assert RECENT in said and "carry on" in said and "fetch_user" in said


def test_hooks_refuse_to_upgrade_the_old_archive_and_say_so(project: Path) -> None:
    """Many hooks start at once: the CLI upgrades (after a backup), hooks only report it."""
    target = Path(locations.archive_path(project))
    target.parent.mkdir(parents=True)
    shutil.copyfile(OLD / "archive.db", target)
    payload = {"session_id": RECENT, "cwd": str(project), "source": "startup"}
    done = subprocess.run([sys.executable, str(REPO / "hooks" / "run.py"), "SessionStart"],
                          input=json.dumps(payload).encode(), capture_output=True, timeout=60,
                          check=False, env={**os.environ, "CLAUDE_PROJECT_DIR": str(project)})
    assert done.returncode == 0 and done.stdout == b""
    with sqlite3.connect(target) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    health = json.loads((target.parent / "health.json").read_text())
    assert "needs upgrading" in health["last_error"]


def test_an_upgrade_cut_short_is_finished_by_the_next_command(project: Path) -> None:
    """The schema changed but the digests were never rebuilt (Ctrl-C during the rebuild):
    the archive still says so, and the next command, whichever, finishes it."""
    target = Path(locations.archive_path(project))
    target.parent.mkdir(parents=True)
    shutil.copyfile(OLD / "archive.db", target)
    (target.parent / "digests").mkdir()
    with open_archive(project) as archive:  # migrates, and stops there
        archive.db.conn.execute("DELETE FROM digests")
    done = run_cli("list", "--project", str(project))
    assert done.returncode == 0, done.stderr.decode()
    assert b"Finished the upgrade" in done.stderr and b"digest(s) rebuilt" in done.stderr
    assert not (target.parent / "digests").exists()
    with open_archive(project) as archive:
        assert archive.db.conn.execute("SELECT count(*) FROM digests").fetchone()[0] > 0
    again = run_cli("list", "--project", str(project))
    assert b"upgrade" not in again.stderr


def test_a_digests_folder_of_the_users_own_is_left_alone(project: Path, tmp_path: Path) -> None:
    """Only an upgrade from before digests were rows drops the old digest files, and only
    those: a folder named by SESSION_CORE_DATA_DIR may hold a ``digests/`` of the user's."""
    data = tmp_path / "my data"
    mine = data / "digests" / "mine.json"
    mine.parent.mkdir(parents=True)
    mine.write_text("{}")
    env = {locations.DATA_DIR_ENV: str(data)}
    assert run_cli("import", str(FIXTURES / "short.jsonl"), "--project", str(project),
                   env=env).returncode == 0
    done = run_cli("list", "--project", str(project), env=env)
    assert done.returncode == 0 and b"upgrade" not in done.stderr
    assert mine.read_text() == "{}"
    (data / "archive.db").unlink()
    shutil.copyfile(OLD / "archive.db", data / "archive.db")
    (data / "digests" / f"{RECENT}.json").write_text("{}")
    (data / "digests" / "notes.txt").write_text("mine too")
    upgraded = run_cli("list", "--project", str(project), env=env)
    assert b"Upgraded" in upgraded.stderr, upgraded.stderr
    assert sorted(p.name for p in mine.parent.iterdir()) == ["notes.txt"]


OLD_V3 = FIXTURES / "archive_v3"
"""Written by bf85e99, the last main before content hashes (``archive_v3/make_fixture.py``)."""


def test_a_v3_archive_upgrades_with_every_row_and_every_export_byte_exact(project: Path) -> None:
    expected = json.loads((OLD_V3 / "expected.json").read_text())
    target = Path(locations.archive_path(project))
    target.parent.mkdir(parents=True)
    shutil.copyfile(OLD_V3 / "archive.db", target)
    done = run_cli("status", "--json", "--project", str(project))
    assert done.returncode == 0, done.stderr.decode()
    assert json.loads(done.stdout)["schema_version"] == LATEST_VERSION
    backups = list((target.parent / "backups").glob("archive-*-pre-migrate-v3.db"))
    assert len(backups) == 1  # backed up before the step
    with sqlite3.connect(target) as conn:
        for table, count in expected["rows"].items():
            if table in DERIVED_TABLES:
                continue  # folded again from the frames, subagents' transcripts too
            assert conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] == count + (
                rows_added(table, 3)), table
        assert conn.execute("SELECT count(*) FROM digests").fetchone() == conn.execute(
            "SELECT count(*) FROM files WHERE kind IN ('session', 'subagent')"
            " AND committed > 0").fetchone()
        assert conn.execute("SELECT count(*) FROM file_changes").fetchone()[0] > 0
        assert conn.execute("SELECT count(*) FROM chunks WHERE raw_hash IS NULL").fetchone() \
            == (0,)
        assert conn.execute("SELECT count(*) FROM files WHERE content_hash IS NULL").fetchone() \
            == (0,)
    for uuid, digest in expected["exports"].items():
        out = run_cli("export", uuid, "--project", str(project))
        assert out.returncode == 0 and hashlib.sha256(out.stdout).hexdigest() == digest, uuid
    verified = run_cli("verify", "--project", str(project))
    assert verified.returncode == 0, verified.stdout.decode()


def test_a_failing_migration_step_leaves_the_old_archive_usable(project: Path) -> None:
    """A step that fails half way rolls back whole: the archive stays at v3, readable."""
    from session_core.store.connection import Database
    from session_core.store.migrations import MIGRATIONS, Migration, migrate

    target = Path(locations.archive_path(project))
    target.parent.mkdir(parents=True)
    shutil.copyfile(OLD_V3 / "archive.db", target)
    broken = (*MIGRATIONS[:3], Migration(4, "broken", (
        "ALTER TABLE chunks ADD COLUMN raw_hash BLOB", "THIS IS NOT SQL")))
    db = Database(target)
    with pytest.raises(Exception, match="syntax"):
        migrate(db, broken)
    assert db.user_version() == 3
    assert "raw_hash" not in [r[1] for r in db.conn.execute("PRAGMA table_info(chunks)")]
    db.close()
    done = run_cli("list", "--project", str(project))  # and the real upgrade still works
    assert done.returncode == 0 and b"6b32797c" in done.stdout


def test_a_hook_applies_an_additive_step_itself_and_archives_the_new_lines(
        project: Path, isolated_env: Path) -> None:
    """v7 only adds tables: the first Stop after the update upgrades a v6 archive (no backup,
    one transaction) and saves the turn, with no CLI run in the project ever."""
    from .hookkit import (
        FIXTURE,
        HOOK_TARGETS_BY_EVENT,
        check_contract,
        encode,
        export,
        make_world,
        payload,
        run_target,
    )

    world = make_world(project, os.environ)
    lines = FIXTURE.read_bytes().splitlines(keepends=True)
    world.transcript.write_bytes(b"".join(lines[: len(lines) // 2]))
    stop = HOOK_TARGETS_BY_EVENT["Stop"]
    check_contract(run_target(stop, encode(payload(world)), world), None)
    with sqlite3.connect(world.archive_db) as conn:  # back to v6, as the previous code left it
        conn.execute("DROP TABLE checkpoints")
        conn.execute("DROP TABLE branches")
        conn.execute("DELETE FROM migrations WHERE version = 7")
        conn.execute("PRAGMA user_version = 6")
    world.transcript.write_bytes(FIXTURE.read_bytes())  # the session went on
    check_contract(run_target(stop, encode(payload(world)), world), None)
    with sqlite3.connect(world.archive_db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION
        assert conn.execute("SELECT count(*) FROM checkpoints").fetchone()[0] >= 0
        assert conn.execute("SELECT max(version) FROM migrations").fetchone()[0] == 7
    assert not list((world.archive_db.parent / "backups").glob("*pre-migrate*"))
    assert "needs upgrading" not in json.dumps(world.health())
    assert export(world) == FIXTURE.read_bytes()


def test_a_hook_still_leaves_a_step_that_is_not_additive_to_the_cli(project: Path) -> None:
    """A v5 archive needs v6 (it drops and rebuilds the index): hooks leave it as it is."""
    from session_core.store.connection import Database
    from session_core.store.migrations import MIGRATIONS, migrate

    target = Path(locations.archive_path(project))
    target.parent.mkdir(parents=True)
    db = Database(target)
    migrate(db, MIGRATIONS[:5])
    db.close()
    with pytest.raises(Exception, match="needs upgrading"):
        open_archive(project, upgrade=False)
    with sqlite3.connect(target) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 5
