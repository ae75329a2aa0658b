"""The schema is pinned, migrations are all-or-nothing, and foreign or newer files are refused."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest

from session_core.base import locations
from session_core.base.errors import DatabaseError
from session_core.cli.backfill import ingest_paths
from session_core.store.archive import open_archive
from session_core.store.connection import APPLICATION_ID, Database
from session_core.store.migrations import MIGRATIONS, Migration, migrate

from .conftest import FIXTURES, run_cli

SNAPSHOT_V1 = FIXTURES / "schema_v1.sql"
SNAPSHOT = FIXTURES / "schema_v7.sql"
LATEST = len(MIGRATIONS)


def _schema(conn: sqlite3.Connection) -> str:
    rows = conn.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL"
                        " ORDER BY type, name").fetchall()
    parts = [f"-- {kind} {name}\n{' '.join(sql.split())};" for kind, name, sql in rows]
    return "\n".join(parts) + "\n"


def test_schema_is_pinned(archive) -> None:  # type: ignore[no-untyped-def]
    conn = archive.db.conn
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 7
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("SELECT version, name FROM migrations ORDER BY version").fetchall() == [
        (1, "initial schema"), (2, "hook suite state"), (3, "handoff digests in the archive"),
        (4, "content hashes of frames and files"), (5, "recall of file changes and error fixes"),
        (6, "tombstones of forgotten sessions"), (7, "checkpoints and branches")]
    assert _schema(conn) == SNAPSHOT.read_text()


def test_archive_files_are_private(archive) -> None:  # type: ignore[no-untyped-def]
    folder = Path(archive.db.path).parent
    assert folder.stat().st_mode & 0o777 == 0o700
    assert Path(archive.db.path).stat().st_mode & 0o777 == 0o600


def test_newer_archive_is_refused_with_its_own_exit_code(project: Path) -> None:
    with open_archive(project) as archive:
        archive.db.conn.execute("PRAGMA user_version = 99")
    result = run_cli("status", "--project", str(project))
    assert result.returncode == 5
    err = result.stderr.decode()
    assert "schema version 99" in err and "Try: upgrade" in err
    with sqlite3.connect(locations.archive_path(project)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 99  # untouched


@pytest.mark.parametrize("content", [b"this is not a database at all" * 100, b"SQLite format 3"])
def test_garbage_archive_is_refused_clearly(project: Path, content: bytes) -> None:
    db = Path(locations.archive_path(project))
    db.parent.mkdir(parents=True)
    db.write_bytes(content)
    result = run_cli("list", "--project", str(project))
    assert result.returncode == 6
    assert result.stderr.startswith(b"Error: ") and b"Traceback" not in result.stderr


def test_database_of_another_program_is_refused(project: Path) -> None:
    db = Path(locations.archive_path(project))
    db.parent.mkdir(parents=True)
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA application_id = 1234")
        conn.execute("CREATE TABLE t (x)")
    result = run_cli("list", "--project", str(project))
    assert result.returncode == 6
    assert b"another program" in result.stderr


def test_a_migration_keeps_rows_backs_up_and_records_itself(project: Path) -> None:
    with open_archive(project) as archive:
        ingest_paths(archive, [FIXTURES / "short.jsonl"])
        entries = archive.db.conn.execute("SELECT count(*) FROM entries").fetchone()[0]
    step = Migration(LATEST + 1, "add notes", ("ALTER TABLE sessions ADD COLUMN notes TEXT",))
    db = Database(locations.archive_path(project))
    try:
        assert migrate(db, (*MIGRATIONS, step)) == LATEST + 1
        assert db.conn.execute("SELECT count(*) FROM entries").fetchone()[0] == entries
        assert db.conn.execute("SELECT max(version) FROM migrations").fetchone()[0] == LATEST + 1
        backups = list((Path(db.path).parent / "backups").glob(
            f"archive-*-pre-migrate-v{LATEST}.db"))
        assert len(backups) == 1
        with sqlite3.connect(backups[0]) as old:
            assert old.execute("PRAGMA user_version").fetchone()[0] == LATEST
    finally:
        db.close()


def test_a_failing_migration_changes_nothing(project: Path) -> None:
    open_archive(project).close()
    broken = Migration(LATEST + 1, "broken", ("CREATE TABLE half_done (x)", "THIS IS NOT SQL"))
    db = Database(locations.archive_path(project))
    try:
        with pytest.raises(DatabaseError):
            migrate(db, (*MIGRATIONS, broken))
        assert db.user_version() == LATEST
        names = {r[0] for r in db.conn.execute("SELECT name FROM sqlite_master")}
        assert "half_done" not in names
    finally:
        db.close()


def test_duplicate_migration_names_are_rejected() -> None:
    from session_core.store.migrations import _check_registry

    with pytest.raises(ValueError):
        _check_registry((*MIGRATIONS, Migration(LATEST + 1, "initial schema", ())))


def test_a_v1_archive_is_upgraded_to_the_hook_schema_without_losing_rows(project: Path) -> None:
    db = Database(locations.archive_path(project))
    try:
        migrate(db, MIGRATIONS[:1])
        assert _schema(db.conn) == SNAPSHOT_V1.read_text()
    finally:
        db.close()
    with open_archive(project) as archive:
        ingest_paths(archive, [FIXTURES / "short.jsonl"])
    with open_archive(project) as archive:
        conn = archive.db.conn
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST
        assert _schema(conn) == SNAPSHOT.read_text()
        assert conn.execute("SELECT count(*) FROM sessions").fetchone()[0] == 1


def test_hooks_leave_an_old_archive_for_the_cli_to_upgrade(project: Path) -> None:
    """Many hooks start at once: each would back up the whole archive before migrating."""
    import json
    import os
    import sys

    db = Database(locations.archive_path(project))
    try:
        migrate(db, MIGRATIONS[:1])
    finally:
        db.close()
    payload = json.dumps({"session_id": "s", "transcript_path": str(FIXTURES / "short.jsonl")})
    hook = FIXTURES.parent.parent / "hooks" / "run.py"
    result = subprocess.run([sys.executable, str(hook), "Stop"], input=payload.encode(),
                            capture_output=True, timeout=60, check=False,
                            env={**os.environ, "CLAUDE_PROJECT_DIR": str(project)})
    assert result.returncode == 0 and result.stdout == b""
    with sqlite3.connect(locations.archive_path(project)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert not (Path(locations.archive_dir(project)) / "backups").exists()
    health = json.loads((Path(locations.archive_dir(project)) / "health.json").read_text())
    assert health["failures"] == 1 and "needs upgrading" in health["last_error"]
    assert run_cli("status", "--project", str(project)).returncode == 0  # the CLI upgrades
    with sqlite3.connect(locations.archive_path(project)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST


def test_backups_are_pruned_per_label_and_dead_temp_files_go(project: Path) -> None:
    import os

    from session_core.store.backup import KEEP_BACKUPS, backup_database

    with open_archive(project) as archive:
        manual = [Path(backup_database(archive.db, "manual")) for _ in range(2)]
        folder = manual[0].parent
        dead = folder / "archive-20200101T000000Z-pre-migrate-v1.tmp"
        dead.write_bytes(b"half")
        os.utime(dead, (0, 0))
        for _ in range(KEEP_BACKUPS + 2):
            backup_database(archive.db, "pre-migrate-v1")
    assert all(m.exists() for m in manual)
    assert len(list(folder.glob("archive-*-pre-migrate-v1.db"))) == KEEP_BACKUPS
    assert not dead.exists()
