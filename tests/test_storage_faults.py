"""Storage under failure: a unit that fails inside a bulk batch leaves no trace, the others
land; a locked archive is waited for, not failed."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from session_core.base import locations
from session_core.base.errors import SessionCoreError
from session_core.cli.backfill import ingest_paths
from session_core.store.archive import open_archive
from session_core.store.connection import Database

from .conftest import FIXTURES, archive_dump, run_cli


def _db(tmp_path: Path) -> Database:
    db = Database(tmp_path / "t.db")
    db.conn.execute("CREATE TABLE t (x)")
    db.conn.execute("CREATE TABLE words (x)")
    return db


def test_failed_unit_in_a_batch_drops_its_rows_and_deferred_rows(tmp_path: Path) -> None:
    db = _db(tmp_path)
    with db.bulk():
        with db.write() as conn:
            conn.execute("INSERT INTO t VALUES ('kept')")
            db.executemany_at_commit("INSERT INTO words VALUES (?)", [("kept",)])
        with pytest.raises(RuntimeError), db.write() as conn:
            conn.execute("INSERT INTO t VALUES ('lost')")
            db.executemany_at_commit("INSERT INTO words VALUES (?)", [("lost",)])
            raise RuntimeError("a file failed half way")
        with db.write() as conn:
            db.executemany_at_commit("INSERT INTO words VALUES (?)", [("later",)])
        assert db.conn.execute("SELECT count(*) FROM words").fetchone()[0] == 0  # deferred
    assert db.conn.execute("SELECT x FROM t").fetchall() == [("kept",)]
    assert db.conn.execute("SELECT x FROM words ORDER BY x").fetchall() == [("kept",),
                                                                             ("later",)]


def test_a_failing_batch_rolls_back_whole(tmp_path: Path) -> None:
    db = _db(tmp_path)
    with pytest.raises(RuntimeError), db.bulk():
        with db.write() as conn:
            conn.execute("INSERT INTO t VALUES (1)")
            db.executemany_at_commit("INSERT INTO words VALUES (?)", [("x",)])
        raise RuntimeError("interrupted")
    assert db.conn.execute("SELECT count(*) FROM t").fetchone()[0] == 0
    with db.write():
        db.executemany_at_commit("INSERT INTO words VALUES (?)", [("y",)])
    assert db.conn.execute("SELECT x FROM words").fetchall() == [("y",)]


def test_import_waits_for_a_writer_holding_the_lock(project: Path) -> None:
    """Another process holds the write lock for 2 s; the import waits and then succeeds."""
    open_archive(project).close()
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None);"
        " c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); time.sleep(2);"
        " c.execute('COMMIT')"), str(locations.archive_path(project))], stdout=subprocess.PIPE)
    assert holder.stdout is not None and holder.stdout.readline().strip() == b"locked"
    started = time.monotonic()
    with open_archive(project) as archive:
        summary = ingest_paths(archive, [FIXTURES / "short.jsonl"])
    assert summary.new_entries > 0 and time.monotonic() - started >= 1.5
    holder.wait(timeout=10)


def test_an_import_stopped_part_way_completes_when_run_again(project: Path, tmp_path: Path) -> None:
    """What an import committed before it stopped is kept, and running it again gives the
    same archive as one clean run."""
    files = [FIXTURES / "short.jsonl", FIXTURES / "6b32797c-28fc-4a1f-b9c8-863fe6c99815.jsonl"]
    with open_archive(project) as archive:
        ingest_paths(archive, files[:1])
        ingest_paths(archive, files)
        resumed = archive_dump(archive)
    clean_project = tmp_path / "clean"
    clean_project.mkdir()
    with open_archive(clean_project) as archive:
        ingest_paths(archive, files)
        assert archive_dump(archive) == resumed


def test_damaged_database_is_reported_not_crashed(project: Path) -> None:
    with open_archive(project) as archive:
        ingest_paths(archive, [FIXTURES / "short.jsonl"])
    db = Path(locations.archive_path(project))
    data = bytearray(db.read_bytes())
    data[4096:8192] = b"\xff" * 4096  # wreck the second page
    db.write_bytes(bytes(data))
    verify = run_cli("verify", "--project", str(project))
    assert verify.returncode == 6
    for command in (["list"], ["status"], ["show", "55604662"], ["export", "55604662"]):
        result = run_cli(*command, "--project", str(project))
        assert result.returncode in (0, 6), (command, result.stderr)
        assert b"Traceback" not in result.stderr


def test_a_damaged_index_of_files_is_reported_by_an_import_of_an_unchanged_file(
        project: Path) -> None:
    """The check for a file that is as archived reads the archive without the lock: its
    damage is reported as ours (Error/Try, exit 6), as under the lock."""
    transcript = FIXTURES / "short.jsonl"
    assert run_cli("import", str(transcript), "--project", str(project)).returncode == 0
    db = Path(locations.archive_path(project))
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        (root,) = conn.execute("SELECT rootpage FROM sqlite_master"
                               " WHERE name = 'sqlite_autoindex_files_1'").fetchone()
        page = conn.execute("PRAGMA page_size").fetchone()[0]
    with open(db, "r+b") as handle:
        handle.seek((root - 1) * page)
        handle.write(b"\x0d" + b"\xff" * (page - 1))
    again = run_cli("import", str(transcript), "--project", str(project))
    assert again.returncode == 6 and b"Traceback" not in again.stderr, again.stderr
    assert b"Error: the archive" in again.stderr and b"damaged" in again.stderr


def test_an_early_commit_that_fails_is_left_for_the_end_of_the_event(project: Path) -> None:
    """SessionStart commits before it waits for git only so that other hooks need not wait:
    if that commit fails, the handoff goes on (the event's last commit reports the failure);
    a commit the event needs (the session's own save) still fails loudly."""
    from session_core.base.errors import DatabaseError
    from session_core.base.settings import Settings
    from session_core.hook.run import HookContext

    with open_archive(project):
        pass  # the schema, so the hook's archive opens without creating one
    ctx = HookContext("SessionStart", {}, str(project), Settings(), time.monotonic() + 8)
    db = ctx.archive().db
    db.conn.execute("PRAGMA foreign_keys = ON")
    with db.write() as conn:  # a row COMMIT refuses: its file does not exist
        conn.execute("PRAGMA defer_foreign_keys = ON")
        conn.execute("INSERT INTO digests VALUES (9999, 0, 0, x'00', 1)")
    ctx.commit(tolerate_failure=True)  # warned, not raised
    with db.write() as conn:
        conn.execute("PRAGMA defer_foreign_keys = ON")
        conn.execute("INSERT INTO digests VALUES (9999, 0, 0, x'00', 1)")
    with pytest.raises(DatabaseError):
        ctx.commit()
    ctx.close()


def test_rows_of_a_batch_sqlite_rolled_back_whole_are_never_written(tmp_path: Path) -> None:
    """A full disk may make SQLite roll the whole batch back, earlier units too: their index
    rows, still waiting for the commit, go with it; written later, they would land under the
    row ids the next units take (another session's messages found by these words)."""
    db = _db(tmp_path)
    with db.bulk():
        with db.write() as conn:
            conn.execute("INSERT INTO t VALUES ('rolled back with the batch')")
            db.executemany_at_commit("INSERT INTO words VALUES (?)", [("stale",)])
        with pytest.raises(SessionCoreError), db.write() as conn:
            conn.execute("ROLLBACK")  # what SQLITE_FULL may do to the whole transaction
            raise sqlite3.OperationalError("database or disk is full")
        db.batch_boundary()
        with db.write() as conn:
            conn.execute("INSERT INTO t VALUES ('after')")
            db.executemany_at_commit("INSERT INTO words VALUES (?)", [("fresh",)])
    assert db.conn.execute("SELECT x FROM t").fetchall() == [("after",)]
    assert db.conn.execute("SELECT x FROM words").fetchall() == [("fresh",)]
