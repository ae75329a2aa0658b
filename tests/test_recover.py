"""``session-core recover`` on every kind of damage a user meets: it ends with an archive that
passes ``verify``, every session whose transcript or backup survived exports byte for byte,
the damaged file is kept, and the report says what could not be recovered."""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from session_core.base import locations
from session_core.transcript import layout

from .conftest import FIXTURES, SHARED, run_cli

IN_BACKUP = [FIXTURES / "short.jsonl", FIXTURES / "6b32797c-28fc-4a1f-b9c8-863fe6c99815.jsonl",
             SHARED / "marot-spotter" / "tool_heavy.jsonl"]
AFTER_BACKUP = [SHARED / "confab-web" / "session_comprehensive.jsonl",
                SHARED / "marot-spotter" / "subagent.jsonl"]
GONE_FROM_DISK = ("tool_heavy.jsonl", "session_comprehensive.jsonl")
"""Deleted by Claude Code's cleanup: one kept by the backup, one only by the damaged archive."""


class World:
    def __init__(self, project: Path) -> None:
        self.project = project
        self.folder = Path(layout.project_folder(project, layout.projects_dir(None)))
        self.folder.mkdir(parents=True)
        self.archive = Path(locations.archive_path(project))
        self.exports: dict[str, bytes] = {}
        self.session_of: dict[str, str] = {}

    def cli(self, *args: str) -> tuple[int, str]:
        result = run_cli(*args, "--project", str(self.project))
        assert b"Traceback" not in result.stderr, result.stderr.decode()
        return result.returncode, (result.stdout + result.stderr).decode()

    def add(self, transcripts: list[Path]) -> None:
        for path in transcripts:
            shutil.copyfile(path, self.folder / path.name)
        assert self.cli("import")[0] == 0

    def remember_exports(self) -> None:
        with sqlite3.connect(self.archive) as conn:
            rows = conn.execute("SELECT s.uuid, f.rel_path FROM files f JOIN sessions s"
                                " ON s.id = f.session_id WHERE f.kind = 'session'").fetchall()
        for uuid, rel_path in rows:
            self.session_of[rel_path] = uuid
            self.exports[uuid] = run_cli("export", uuid, "--project", str(self.project)).stdout

    def export(self, uuid: str) -> bytes | None:
        result = run_cli("export", uuid, "--project", str(self.project))
        return result.stdout if result.returncode == 0 else None

    def checkpoint(self) -> None:
        """Everything into the main file, so damage to it is damage to the data."""
        with sqlite3.connect(self.archive) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def drop_sidecars(self) -> None:
        for suffix in ("-wal", "-shm"):
            Path(str(self.archive) + suffix).unlink(missing_ok=True)


@pytest.fixture
def world(project: Path) -> World:
    """Three sessions backed up, two more archived after the backup, then one of each group
    deleted from Claude Code's folder."""
    world = World(project)
    world.add(IN_BACKUP)
    assert world.cli("backup")[0] == 0
    world.add(AFTER_BACKUP)
    world.remember_exports()
    for name in GONE_FROM_DISK:
        (world.folder / name).unlink()
    return world


def _flip_bits(world: World) -> None:
    """Flips in the data, the first pages (header, schema) left whole: a destroyed schema
    leaves nothing readable, which the garbage and header cases cover."""
    world.checkpoint()
    data = bytearray(world.archive.read_bytes())
    rng = random.Random(7)
    for _ in range(40):
        at = rng.randrange(16 * 4096, len(data))
        data[at] ^= 1 << rng.randrange(8)
    world.archive.write_bytes(bytes(data))


def _truncate(world: World) -> None:
    world.checkpoint()
    with open(world.archive, "r+b") as handle:
        handle.truncate(os.path.getsize(world.archive) // 2)


def _empty(world: World) -> None:
    world.checkpoint()
    world.archive.write_bytes(b"")
    world.drop_sidecars()


def _garbage(world: World) -> None:
    world.checkpoint()
    world.archive.write_bytes(random.Random(3).randbytes(os.path.getsize(world.archive)))
    world.drop_sidecars()


def _overwrite_header(world: World) -> None:
    world.checkpoint()
    with open(world.archive, "r+b") as handle:
        handle.write(random.Random(5).randbytes(100))


def _delete(world: World) -> None:
    world.archive.unlink()
    world.drop_sidecars()


DAMAGE: dict[str, Callable[[World], None]] = {
    "truncated": _truncate, "zero-length": _empty, "bit flips": _flip_bits,
    "garbage": _garbage, "overwritten header": _overwrite_header, "deleted": _delete,
}


def _survivors(world: World, with_backup: bool) -> list[str]:
    """Sessions whose transcript is still on disk, or which the backup holds."""
    kept = {path.name for path in world.folder.iterdir()}
    if with_backup:
        kept |= {path.name for path in IN_BACKUP}
    return [world.session_of[name] for name in sorted(kept)]


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_recover_brings_back_everything_that_survived(world: World, damage: str) -> None:
    DAMAGE[damage](world)
    before = world.archive.read_bytes() if world.archive.exists() else None
    code, text = world.cli("recover")
    assert code == 0, text
    assert world.cli("verify")[0] == 0
    for uuid in _survivors(world, with_backup=True):
        assert world.export(uuid) == world.exports[uuid], (damage, uuid, text)
    if before is not None:  # the damaged file is kept, as it was
        kept = list((world.archive.parent / locations.QUARANTINE_DIR).glob("*/archive.db"))
        assert [path.read_bytes() for path in kept] == [before]
    assert "Lost" in text


def test_a_header_overwritten_loses_nothing_not_even_what_only_the_archive_held(
        world: World) -> None:
    _overwrite_header(world)
    code, text = world.cli("recover")
    assert code == 0, text
    only_here = world.session_of["session_comprehensive.jsonl"]
    assert world.export(only_here) == world.exports[only_here]
    assert "Lost         nothing" in text


def test_recover_without_any_backup_keeps_what_the_damaged_file_still_holds(
        world: World) -> None:
    for backup in (world.archive.parent / locations.BACKUPS_DIR).iterdir():
        backup.unlink()
    _flip_bits(world)
    code, text = world.cli("recover")
    assert code == 0, text
    assert world.cli("verify")[0] == 0
    for uuid in _survivors(world, with_backup=False):
        assert world.export(uuid) == world.exports[uuid]
    # What could not be read is named, never silently dropped.
    for uuid in set(world.exports) - set(_survivors(world, with_backup=False)):
        exported = world.export(uuid)
        assert exported == world.exports[uuid] or uuid in text, text


def test_a_lost_wal_loses_only_what_nothing_else_held(world: World) -> None:
    """A crash image: the main file without its WAL, the newest commits gone with it."""
    image = world.archive.with_name("image.db")
    with sqlite3.connect(world.archive) as holder:  # a reader keeps the WAL from being folded
        holder.execute("PRAGMA wal_autocheckpoint = 0")
        holder.execute("BEGIN")
        holder.execute("SELECT count(*) FROM files").fetchone()
        shutil.copyfile(world.archive, image)
        holder.execute("COMMIT")
    _delete(world)
    image.rename(world.archive)
    code, text = world.cli("recover")
    assert code == 0, text
    assert world.cli("verify")[0] == 0
    for uuid in _survivors(world, with_backup=True):
        assert world.export(uuid) == world.exports[uuid]


def test_recover_on_a_healthy_archive_backs_it_up_and_takes_back_what_backups_hold(
        world: World) -> None:
    """A healthy archive is never moved aside; a session only a backup still holds comes back
    (here lost to the lossy advice of earlier versions: delete the archive, import again)."""
    lost = world.session_of["tool_heavy.jsonl"]
    _delete(world)
    assert world.cli("import")[0] == 0
    assert world.export(lost) is None
    code, text = world.cli("recover")
    assert code == 0, text
    assert "pre-recover" in text and not (world.archive.parent / "quarantine").exists()
    assert world.export(lost) == world.exports[lost]


def test_dry_run_changes_nothing(world: World) -> None:
    _flip_bits(world)

    def contents() -> list[tuple[str, bytes]]:
        return sorted((str(p), p.read_bytes()) for p in world.archive.parent.rglob("*")
                      if p.is_file() and not p.name.endswith(("-wal", "-shm")))

    before = contents()
    code, text = world.cli("recover", "--dry-run")
    assert code == 0 and "Would move it aside" in text and "nothing was changed" in text
    assert contents() == before


def test_reading_commands_on_a_damaged_archive_name_recover(world: World) -> None:
    _garbage(world)
    for command in (["list"], ["status"], ["export", world.session_of["short.jsonl"]],
                    ["search", "retry"], ["show", world.session_of["short.jsonl"]]):
        code, text = world.cli(*command)
        assert code == 6, (command, text)
        assert "damaged" in text and "Try: run 'session-core recover'" in text, (command, text)


def test_an_emptied_or_deleted_archive_with_backups_is_not_taken_for_a_new_one(
        world: World) -> None:
    _empty(world)
    code, text = world.cli("list")
    assert code == 6 and "session-core recover" in text, text
    assert world.archive.stat().st_size == 0  # not silently made a new empty archive
    _delete(world)
    code, text = world.cli("list")
    assert code != 0 and "session-core recover" in text, text


def test_damage_to_the_index_alone_is_repaired_from_the_frames(world: World) -> None:
    with sqlite3.connect(world.archive) as conn:
        conn.execute("UPDATE entries SET kind = 'tampered' WHERE id IN"
                     " (SELECT id FROM entries LIMIT 3)")
    assert world.cli("verify")[0] == 6
    code, text = world.cli("recover")
    assert code == 0 and "Moving it aside" in text, text
    assert world.cli("verify")[0] == 0
    for uuid in _survivors(world, with_backup=True):
        assert world.export(uuid) == world.exports[uuid]


def test_from_on_a_healthy_archive_is_refused(world: World) -> None:
    backup = next((world.archive.parent / locations.BACKUPS_DIR).glob("archive-*.db"))
    code, text = world.cli("recover", "--from", backup.name)
    assert code == 2 and "healthy" in text, text


def test_a_wal_left_beside_a_deleted_archive_never_replays_onto_the_backup(
        world: World) -> None:
    with sqlite3.connect(world.archive) as conn:  # an old -wal with frames in it
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        conn.execute("INSERT INTO meta(key, value) VALUES ('x', 'y')")
        stale = Path(str(world.archive) + "-wal").read_bytes()
    world.archive.unlink()
    Path(str(world.archive) + "-wal").write_bytes(stale)
    code, text = world.cli("recover")
    assert code == 0, text
    assert world.cli("verify")[0] == 0


def test_merging_an_old_archive_twice_adds_nothing_and_keeps_its_summaries(
        tmp_path: Path) -> None:
    """Turns compressed at another level are the same turns; a compaction summary only the old
    archive has is kept even when this archive's row of that session is newer."""
    from session_core.store import chat, codec, state
    from session_core.store.connection import Database
    from session_core.store.migrations import migrate

    db = Database(tmp_path / "a.db")
    migrate(db)
    with db.write() as conn:
        chat.add(conn, "s1", None, "user", "2026-12-01T10:00:00.000Z", "hello there", 3)
        state.mark_open(conn, "s1", "Stop", "2026-12-01T11:00:00.000Z")
        raw = b"hello there"
        old_turn = ("s1", None, "user", "2026-12-01T10:00:00.000Z", codec.compress(raw, 19),
                    len(raw))
        assert chat.merge_turns(conn, [old_turn]) == 0
        summary = codec.compress(b"we fixed the parser", 3)
        old_state = ("s1", "main", "abc", "Stop", "2026-12-01T09:00:00.000Z", None, None,
                     summary)
        state.merge_rows(conn, [old_state])
        kept = conn.execute("SELECT compact_summary, last_event_at FROM session_state").fetchone()
    assert kept == (summary, "2026-12-01T11:00:00.000Z")
    db.close()


MARK = ("cleaned:0000aaaa-1111-4222-8333-444455556666",
        "10 " + "00" * 16 + " " + "11" * 16 + " 2026-12-01T10:00:00.000Z /gone/x.jsonl")
LINK = ("0000bbbb-1111-4222-8333-444455556666", "branch", "0000cccc-1111-4222-8333-444455556666",
        "cp-gone", None, "try-b", None, 1234, "2026-12-01T10:00:00.000Z")


def _rows(archive: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]],
                                  list[tuple[object, ...]]]:
    with sqlite3.connect(archive) as conn:
        marks = conn.execute("SELECT key, value FROM meta WHERE key LIKE 'cleaned:%'").fetchall()
        links = conn.execute("SELECT * FROM branches ORDER BY session_uuid").fetchall()
        points = conn.execute(
            "SELECT c.name, s.uuid, f.path, c.generation, c.offset, c.last_uuid, c.reason,"
            " c.prompts, c.created_at FROM checkpoints c JOIN sessions s ON s.id = c.session_id"
            " JOIN files f ON f.id = c.file_id ORDER BY c.name").fetchall()
    return points, links, marks


@pytest.mark.parametrize("with_backup", [True, False])
def test_recover_carries_checkpoints_branch_links_and_cleanup_marks(
        world: World, with_backup: bool) -> None:
    """Rows only the damaged archive held (made after the backup, or with no backup at all)
    come back remapped to the new archive's ids; one whose bytes no source holds is lost, and
    said to be."""
    only_here = world.session_of["session_comprehensive.jsonl"]  # its transcript is gone
    on_disk = world.session_of["subagent.jsonl"]
    assert world.cli("checkpoint", "create", "cp-gone-from-disk", "--session", only_here)[0] == 0
    assert world.cli("checkpoint", "create", "cp-on-disk", "--session", on_disk)[0] == 0
    assert world.cli("checkpoint", "create", "cp-beyond", "--session", on_disk)[0] == 0
    with sqlite3.connect(world.archive) as conn:
        conn.execute("INSERT INTO meta(key, value) VALUES (?, ?)", MARK)
        conn.execute("INSERT INTO branches VALUES (?,?,?,?,?,?,?,?,?)", LINK)
        conn.execute("UPDATE checkpoints SET offset = offset + 4096 WHERE name = 'cp-beyond'")
    before = _rows(world.archive)
    if not with_backup:
        for backup in (world.archive.parent / locations.BACKUPS_DIR).iterdir():
            backup.unlink()
    _overwrite_header(world)
    code, text = world.cli("recover")
    assert code == 0, text
    assert world.cli("verify")[0] == 0
    points, links, marks = _rows(world.archive)
    assert [p for p in points if p[0] != "cp-beyond"] == \
        [p for p in before[0] if p[0] != "cp-beyond"]
    assert (links, marks) == (before[1], before[2])
    assert "Lost         1 checkpoint(s) could not be carried" in text, text
    assert "cp-beyond" in text and "Lost         nothing" not in text
    assert "2 checkpoint(s), 1 branch link(s), 1 cleanup mark(s)" in text, text
    branched = run_cli("branch", "cp-gone-from-disk", "--project", str(world.project))
    assert branched.returncode == 0, branched.stderr.decode()  # cut from the recovered frames
