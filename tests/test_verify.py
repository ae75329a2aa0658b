"""``verify`` sees every kind of damage, names what it affects, and tells an archive of another
program apart; no single flipped bit gives silently wrong output while it says healthy."""

from __future__ import annotations

import contextlib
import json
import random
import shutil
import sqlite3
from pathlib import Path

import pytest

from session_core.base import locations
from session_core.base.errors import SessionCoreError
from session_core.base.settings import Settings
from session_core.cli.export import export_session
from session_core.store import entries
from session_core.store.connection import READ_ERRORS, open_read_only
from session_core.store.verify import HEALTHY, check_file
from session_core.transcript.recheck import index_findings

from .conftest import FIXTURES, SHARED, run_cli

TRANSCRIPTS = [FIXTURES / "short.jsonl", FIXTURES / "6b32797c-28fc-4a1f-b9c8-863fe6c99815.jsonl",
               SHARED / "marot-spotter" / "tool_heavy.jsonl"]
QUERIES = ("retry", "the", "file", "error OR test", "fetch_user")


def _imported(project: Path) -> Path:
    assert run_cli("import", *map(str, TRANSCRIPTS), "--project", str(project)).returncode == 0
    archive = Path(locations.archive_path(project))
    with sqlite3.connect(archive) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return archive


def _verify(project: Path, *flags: str) -> tuple[int, str]:
    result = run_cli("verify", *flags, "--project", str(project))
    assert b"Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout.decode()


def test_a_healthy_archive_passes_and_says_what_was_checked(project: Path) -> None:
    _imported(project)
    code, text = _verify(project)
    assert code == 0 and "against the archived lines" in text, text


def test_a_rewritten_transcript_is_healthy_not_damage(project: Path, tmp_path: Path) -> None:
    """A rewrite archives a new generation beside the old one; deriving the index again must
    replay both in order, not take the older one alone (it named healthy archives damaged and
    sent their owners to recover)."""
    transcript = tmp_path / "11111111-1111-4111-8111-111111111111.jsonl"
    lines = (FIXTURES / "short.jsonl").read_bytes().splitlines(keepends=True)
    transcript.write_bytes(b"".join(lines))
    assert run_cli("import", str(transcript), "--project", str(project)).returncode == 0
    added = json.loads(lines[-1])
    added["uuid"] = "22222222-2222-4222-8222-222222222222"  # a record only the rewrite has
    transcript.write_bytes(b"".join(lines[2:]) + json.dumps(added).encode() + b"\n")
    assert run_cli("import", str(transcript), "--project", str(project)).returncode == 0
    code, text = _verify(project)
    assert code == 0 and "against the archived lines" in text, text


def test_an_index_row_that_disagrees_with_its_line_is_found_and_named(project: Path) -> None:
    archive = _imported(project)
    with sqlite3.connect(archive) as conn:
        (uuid,) = conn.execute("SELECT s.uuid FROM entries e JOIN sessions s"
                               " ON s.id = e.session_id WHERE e.role = 'user' LIMIT 1").fetchone()
        conn.execute("UPDATE entries SET role = 'assistant' WHERE id = (SELECT e.id FROM entries"
                     " e JOIN sessions s ON s.id = e.session_id WHERE s.uuid = ? AND"
                     " e.role = 'user' LIMIT 1)", (uuid,))
    # SQLite's checks see nothing wrong; the quick sample (here every transcript) does.
    assert _verify(project, "--quick")[0] == 6
    code, text = _verify(project)
    assert code == 6 and "differs from their archived lines" in text and uuid in text, text
    assert "search, show, list" in text and "session-core recover" in text


def test_words_the_full_text_index_holds_wrongly_are_found(project: Path) -> None:
    """Consistent to FTS5's own check, wrong to a search: only the derived index shows it."""
    archive = _imported(project)
    with sqlite3.connect(archive) as conn:
        conn.execute("INSERT INTO entries_fts(rowid, text) VALUES"
                     " ((SELECT min(id) FROM entries), 'zebraword')")
    assert _verify(project, "--quick")[0] == 6  # three transcripts: all in the sample
    assert _verify(project)[0] == 6


def test_an_entry_pointing_past_its_file_is_found(project: Path) -> None:
    archive = _imported(project)
    with sqlite3.connect(archive) as conn:
        conn.execute("UPDATE entries SET offset = offset + 100000000"
                     " WHERE id = (SELECT max(id) FROM entries)")
    code, text = _verify(project)
    assert code == 6 and "point outside their archived file" in text, text


def test_a_database_of_another_program_is_not_ours(project: Path) -> None:
    archive = Path(locations.archive_path(project))
    archive.parent.mkdir(parents=True)
    with sqlite3.connect(archive) as conn:
        conn.execute("PRAGMA application_id = 1234")
        conn.execute("CREATE TABLE notes (x)")
    code, text = _verify(project)
    assert code == 11 and "another program" in text, text


def test_an_emptied_archive_is_damaged_not_new(project: Path) -> None:
    _imported(project).write_bytes(b"")
    code, text = _verify(project)
    assert code == 6 and "empty" in text, text


def _outputs(archive: Path) -> tuple[dict[str, bytes | None], dict[str, list[tuple[object, ...]]]]:
    """Every session's export and every query's hits, as a user would get them (None, or no
    hits list, where the command fails with an error)."""
    exports: dict[str, bytes | None] = {}
    hits: dict[str, list[tuple[object, ...]]] = {}
    try:
        conn = open_read_only(str(archive))
    except READ_ERRORS:
        return exports, hits
    try:
        uuids = [u for (u,) in conn.execute("SELECT uuid FROM sessions")]
        for uuid in uuids:
            out = _Sink()
            try:
                export_session(conn, uuid, out)  # type: ignore[arg-type]
                exports[uuid] = bytes(out.data)
            except (SessionCoreError, *READ_ERRORS):
                exports[uuid] = None
        for query in QUERIES:
            with contextlib.suppress(SessionCoreError, *READ_ERRORS):
                hits[query] = [(h.session, h.role, h.kind, h.ts)
                               for h in entries.search(conn, query, 1000)]
    except READ_ERRORS:
        pass
    finally:
        conn.close()
    return exports, hits


class _Sink:
    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, block: bytes) -> int:
        self.data += block
        return len(block)


@pytest.mark.slow
def test_no_single_bit_flip_gives_silently_wrong_output(project: Path, tmp_path: Path) -> None:
    """200 flips, each in a fresh copy: either verify says damaged, or every export and
    search gives exactly what the undamaged archive gives."""
    pristine = _imported(project)
    good_exports, good_hits = _outputs(pristine)
    rng = random.Random(2026)
    size = pristine.stat().st_size
    silent: list[int] = []
    caught = 0
    for flip in range(200):
        copy = tmp_path / f"flip-{flip}.db"
        shutil.copyfile(pristine, copy)
        at = rng.randrange(size)
        with open(copy, "r+b") as handle:
            handle.seek(at)
            byte = handle.read(1)[0]
            handle.seek(at)
            handle.write(bytes([byte ^ (1 << rng.randrange(8))]))
        report = check_file(str(copy))
        if report.state == HEALTHY:
            findings = index_findings(str(copy), Settings(),
                                      work_dir=str(tmp_path / f"work-{flip}"))
            healthy = not findings
        else:
            healthy = False
        if healthy:
            exports, hits = _outputs(copy)
            if exports != good_exports or hits != good_hits:
                silent.append(at)
        else:
            caught += 1
        for leftover in tmp_path.glob(f"flip-{flip}.db*"):
            leftover.unlink()
    assert not silent, f"flips at bytes {silent} gave wrong output while verify said healthy"
    assert 0 < caught < 200, caught  # damage was met, and so were harmless flips (free space)


def _import_and_swap_two_frames(project: Path, tmp_path: Path, lines: list[bytes]) -> None:
    """Import ``lines`` (of equal length) in 64 KiB frames, then swap the first two frames,
    their hashes with them: each still decompresses with its checksum and the file still runs
    from byte 0 to its size; only the file's content hash, or the records read, can tell."""
    config = project / ".claude" / "session-core.json"
    config.parent.mkdir(parents=True)
    config.write_text('{"frame_bytes": 65536}')
    transcript = tmp_path / "even.jsonl"
    transcript.write_bytes(b"".join(lines))
    assert run_cli("import", str(transcript), "--project", str(project)).returncode == 0
    with sqlite3.connect(locations.archive_path(project)) as conn:
        rows = conn.execute("SELECT id, raw_len, data, raw_hash FROM chunks ORDER BY offset"
                            ).fetchall()
        assert len(rows) >= 3 and rows[0][1] == rows[1][1], [r[1] for r in rows]
        (a, _, data_a, hash_a), (b, _, data_b, hash_b) = rows[0], rows[1]
        conn.execute("UPDATE chunks SET data = ?, raw_hash = ? WHERE id = ?", (data_b, hash_b, a))
        conn.execute("UPDATE chunks SET data = ?, raw_hash = ? WHERE id = ?", (data_a, hash_a, b))


def test_frames_in_the_wrong_order_are_never_exported(project: Path, tmp_path: Path) -> None:
    """Two frames of equal length swapped: each decompresses with its checksum and the file
    still runs from byte 0 to its size; only the content hash tells, and export refuses."""
    line = b'{"type":"user","sessionId":"11111111-2222-4333-8444-555555555555","n":"%s"}\n'
    _import_and_swap_two_frames(project, tmp_path, [
        line % str(n).zfill(920 - len(line)).encode() for n in range(300)])
    exported = run_cli("export", "11111111", "--project", str(project))
    assert exported.returncode == 6 and b"damaged" in exported.stderr, exported.stderr
    assert b"session-core recover" in exported.stderr
    code, text = _verify(project)
    assert code == 6 and "content hash" in text, text


def test_a_search_never_shows_the_text_of_a_frame_in_the_wrong_place(project: Path,
                                                                     tmp_path: Path) -> None:
    """Search reads a hit's record without the frame's content hash (hashing was most of its
    time), so it checks the record is the entry it found: two swapped frames give no snippet,
    never another message's words."""
    def line(n: int) -> bytes:
        record = {"type": "user", "sessionId": "11111111-2222-4333-8444-555555555555",
                  "uuid": f"00000000-0000-4000-8000-{n:012d}", "message": {
                      "role": "user", "content": f"marker{n:04d} " + "filler " * 120}}
        return json.dumps(record).encode() + b"\n"
    _import_and_swap_two_frames(project, tmp_path, [line(n) for n in range(300)])
    done = run_cli("search", "marker0003", "--json", "--project", str(project))
    assert done.returncode == 0, done.stderr
    hits = json.loads(done.stdout)
    assert hits and all(h["snippet"] in ("", None) or "marker0003" in h["snippet"]
                        for h in hits), hits


def test_a_damaged_full_text_block_is_damage_not_a_crash(project: Path) -> None:
    archive = _imported(project)
    with sqlite3.connect(archive) as conn:
        block_id, block = conn.execute("SELECT id, block FROM entries_fts_data"
                                       " ORDER BY length(block) DESC LIMIT 1").fetchone()
        conn.execute("UPDATE entries_fts_data SET block = ? WHERE id = ?",
                     (bytes(b ^ 0x5A for b in block), block_id))
    for flags in ((), ("--quick",)):
        code, text = _verify(project, *flags)
        assert code == 6 and "recover" in text, (flags, text)
    recovered = run_cli("recover", "--project", str(project))
    assert recovered.returncode == 0, recovered.stdout.decode() + recovered.stderr.decode()
    assert _verify(project)[0] == 0


def test_a_frame_stored_as_text_is_damage_everywhere(project: Path) -> None:
    archive = _imported(project)
    with sqlite3.connect(archive) as conn:
        conn.execute("UPDATE chunks SET data = CAST(data AS TEXT) WHERE id = (SELECT min(id)"
                     " FROM chunks)")
        (uuid,) = conn.execute("SELECT s.uuid FROM chunks c JOIN files f ON f.id = c.file_id"
                               " JOIN sessions s ON s.id = f.session_id"
                               " WHERE c.id = (SELECT min(id) FROM chunks)").fetchone()
    assert _verify(project)[0] == 6
    exported = run_cli("export", uuid, "--project", str(project))
    assert exported.returncode == 6 and b"damaged" in exported.stderr, exported.stderr
    assert b"Traceback" not in exported.stderr
