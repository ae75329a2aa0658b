"""Automatic backups, taken by the hooks when due; retention that never drops the only copy of
a session; damage never backed up over good backups; ``backups`` shows what there is."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

from session_core.base import locations
from session_core.base.settings import Settings
from session_core.store.backup import prune

from .conftest import FIXTURES, SHARED, run_cli
from .hookkit import HOOK_TARGETS_BY_EVENT, World, encode, make_world, payload, run_target


def _backups(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.glob("archive-*.db"))


def _settings(project: Path, **values: object) -> None:
    path = Path(locations.project_config_path(project))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(values))


def _stop(world: World) -> None:
    run = run_target(HOOK_TARGETS_BY_EVENT["Stop"], encode(payload(world)), world)
    assert run.returncode == 0 and not any("ERROR" in line for line in run.log), run.log


def test_a_stop_backs_up_when_one_is_due_and_not_again_until_the_interval(
        project: Path, isolated_env: Path) -> None:
    import os

    world = make_world(project, os.environ)
    folder = world.archive_db.parent / locations.BACKUPS_DIR
    _stop(world)
    first = _backups(folder)
    assert len(first) == 1 and first[0].endswith("-auto.db")
    _stop(world)
    assert _backups(folder) == first  # the newest is younger than backup_interval_hours
    with sqlite3.connect(folder / first[0]) as conn:  # a whole archive, self-contained
        assert conn.execute("SELECT count(*) FROM files").fetchone()[0] == 1
    assert not list(folder.glob("*-wal"))


def test_no_automatic_backups_when_the_interval_is_zero(project: Path,
                                                        isolated_env: Path) -> None:
    import os

    _settings(project, backup_interval_hours=0)
    world = make_world(project, os.environ)
    _stop(world)
    assert not (world.archive_db.parent / locations.BACKUPS_DIR).exists()


def _archive_with(project: Path, transcripts: list[Path]) -> Path:
    assert run_cli("import", *map(str, transcripts), "--project", str(project)).returncode == 0
    assert run_cli("backup", "--project", str(project)).returncode == 0
    folder = Path(locations.archive_path(project)).parent / locations.BACKUPS_DIR
    return next(folder.glob("archive-*.db"))


def test_retention_keeps_by_day_and_week_and_never_the_only_copy_of_a_session(
        tmp_path: Path) -> None:
    common = _archive_with(tmp_path / "a", [FIXTURES / "short.jsonl"])
    unique = _archive_with(tmp_path / "b", [SHARED / "marot-spotter" / "tool_heavy.jsonl"])
    folder = tmp_path / "backups"
    folder.mkdir()
    stamps = ["20261201T100000000000Z", "20261201T090000000000Z", "20261130T100000000000Z",
              "20261129T100000000000Z", "20261120T100000000000Z", "20261101T100000000000Z",
              "20261001T100000000000Z"]
    for stamp in stamps:
        shutil.copyfile(common, folder / f"archive-{stamp}-auto.db")
    # An old backup holding a session no newer one holds (say, Claude Code deleted it and an
    # emptied archive was backed up since).
    shutil.copyfile(unique, folder / "archive-20260901T100000000000Z-auto.db")
    removed = prune(str(folder), Settings(keep_last=2, keep_daily=3, keep_weekly=2))
    kept = [name.split("-")[1][:11] for name in _backups(folder)]
    # The 2 newest; the newest of the last 3 days (12-01, 11-30, 11-29); of the last 2 ISO
    # weeks (49: 12-01, 48: 11-29); the September one holds the only copy of its session.
    assert kept == ["20260901T10", "20261129T10", "20261130T10", "20261201T09",
                    "20261201T10"], kept
    assert sorted(name.split("-")[1][:8] for name in removed) == ["20261001", "20261101",
                                                                    "20261120"]


def test_a_damaged_archive_is_never_backed_up_over_good_backups(project: Path) -> None:
    good = _archive_with(project, [FIXTURES / "short.jsonl"])
    archive = Path(locations.archive_path(project))
    with sqlite3.connect(archive) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(archive.read_bytes())
    data[4096:8192] = b"\xff" * 4096
    archive.write_bytes(bytes(data))
    for _ in range(7):
        result = run_cli("backup", "--project", str(project))
        assert result.returncode == 6 and b"session-core recover" in result.stderr
    assert _backups(good.parent) == [good.name]


def test_backups_lists_time_sessions_and_state(project: Path) -> None:
    good = _archive_with(project, [FIXTURES / "short.jsonl"])
    broken = good.with_name("archive-20200101T000000000000Z-manual.db")
    broken.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    listed = run_cli("backups", "--project", str(project)).stdout.decode()
    assert "verified" in listed and "DAMAGED" in listed and good.name in listed, listed
    rows = json.loads(run_cli("backups", "--json", "--project", str(project)).stdout)
    assert [(row["sessions"], row["verified"]) for row in rows] == [(1, True), (0, False)]


def test_backup_dir_puts_backups_elsewhere(project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "all backups"
    _settings(project, backup_dir=str(elsewhere))
    assert run_cli("import", str(FIXTURES / "short.jsonl"), "--project",
                   str(project)).returncode == 0
    assert run_cli("backup", "--project", str(project)).returncode == 0
    assert len(list(elsewhere.glob("*/archive-*-manual.db"))) == 1
    assert not (Path(locations.archive_path(project)).parent / locations.BACKUPS_DIR).exists()
    rows = json.loads(run_cli("backups", "--json", "--project", str(project)).stdout)
    assert len(rows) == 1 and rows[0]["verified"]
