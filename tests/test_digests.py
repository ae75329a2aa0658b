"""The handoff digest kept in the archive: folded by ingest from the records it parses, in the
same transaction, read by SessionStart without folding again, and never trusted for other bytes
or allowed to cost a save."""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from session_core.base.jsonlite import dumps, loads
from session_core.cli.backfill import ingest_paths
from session_core.store import codec
from session_core.store.archive import open_archive
from session_core.store.files import at_path as file_at
from session_core.store.frames import read_lines as file_lines
from session_core.transcript.digest import (
    Digest,
    digest_lines,
    digest_of,
    fold_lines,
    refresh_digests,
)
from session_core.transcript.ingest import ingest_file

from .conftest import corpus_files, run_cli
from .hookkit import (
    FIXTURE,
    HOOK_TARGETS_BY_EVENT,
    SESSION,
    World,
    check_contract,
    encode,
    export,
    make_world,
    payload,
    run_target,
)
from .test_handoff import session_lines

NEW = "11111111-2222-4333-8444-555555555555"


@pytest.fixture
def world(project: Path, isolated_env: Path) -> World:
    return make_world(project, os.environ)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([FIXTURE, *corpus_files()[:12]]), st.lists(st.floats(0, 1), max_size=3))
def test_folding_in_saved_pieces_is_folding_at_once(transcript: Path,
                                                    cuts: list[float]) -> None:
    """Save after each piece (through JSON, as the cache file does), restore, fold on."""
    lines = transcript.read_bytes().splitlines()
    session = next((match.decode() for line in lines
                    if (match := _session_of(line)) is not None), "none")
    marks = sorted({int(cut * len(lines)) for cut in cuts} | {0, len(lines)})
    digest = Digest(session)
    for start, end in itertools.pairwise(marks):
        fold_lines(digest, lines[start:end])
        digest = Digest.from_state(session, loads(dumps(digest.to_state())))
    assert digest.to_state() == digest_lines(session, lines).to_state()


def _session_of(line: bytes) -> bytes | None:
    at = line.find(b'"sessionId":"')
    return line[at + 13:at + 49] if at >= 0 else None


def test_a_saved_digest_of_other_shape_is_refused() -> None:
    good = digest_lines("s", session_lines()).to_state()
    for broken in ({}, {**good, "replies": 5}, {**good, "first_prompt": ["x"]},
                   {**good, "tasks": [["only two", "fields"]]}, {**good, "tasks": ["abc"]},
                   {**good, "replies": ["ab"]}, {**good, "replies": [[None, {"x": 1}]]},
                   {**good, "files": [1]}, {**good, "open_errors": [[None, "x"]]},
                   {**good, "v": 1}, {**good, "commits": [["abc", "subject"]]},
                   {**good, "last_test": ["only the command"]},
                   {**good, "prompts": "7"}, {**good, "prompts": True},
                   {**good, "prompts": float("inf")}):
        with pytest.raises(ValueError):
            Digest.from_state("s", broken)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # archived once, reused
@given(st.lists(st.integers(0, 10_000), min_size=2, max_size=2))
def test_reading_a_range_of_lines_is_slicing_the_file(project: Path, tmp_path: Path,
                                                      bounds: list[int]) -> None:
    """Archived in several steps (several frames); any line-aligned range reads back exact."""
    lines = FIXTURE.read_bytes().splitlines(keepends=True)
    path = tmp_path / f"{SESSION}.jsonl"
    with open_archive(project) as archive:
        if not path.exists():
            path.write_bytes(b"")
            for step in range(0, len(lines), 7):
                with open(path, "ab") as handle:
                    handle.write(b"".join(lines[step:step + 7]))
                ingest_file(archive.db, path, archive.settings)
        record = file_at(archive.db.conn, str(path))
        assert record is not None
        ends = sorted(min(len(lines), b * len(lines) // 10_000) for b in bounds)
        start = len(b"".join(lines[:ends[0]]))
        end = len(b"".join(lines[:ends[1]]))
        got = list(file_lines(archive.db.conn, record, start, end))
    assert got == [line.rstrip(b"\n") for line in lines[ends[0]:ends[1]]]


def _stop(world: World) -> None:
    """A Stop without ``last_assistant_message``: the handoff's reply comes from the digest."""
    data = payload(world, last_assistant_message=None)
    check_contract(run_target(HOOK_TARGETS_BY_EVENT["Stop"], encode(data), world), None)


def _handoff(world: World) -> str:
    data = payload(world, session_id=NEW, source="startup",
                   transcript_path=str(world.transcript.with_name(f"{NEW}.jsonl")))
    run = run_target(HOOK_TARGETS_BY_EVENT["SessionStart"], encode(data), world)
    check_contract(run, None)
    return str(json.loads(run.stdout)["hookSpecificOutput"]["additionalContext"])


def _saved(world: World) -> tuple[int, int, dict[str, object]]:
    """(generation, offset, state) of the session's saved digest."""
    with sqlite3.connect(world.archive_db) as conn:
        generation, offset, blob, length = conn.execute(
            "SELECT generation, offset, state, state_len FROM digests").fetchone()
    return generation, offset, json.loads(codec.decompress(blob, length))


def _tamper(world: World, state: bytes | None = None,
            columns: dict[str, object] | None = None) -> None:
    """Mark the saved digest (a handoff that shows the mark read it), or replace its state."""
    if state is None:
        saved = _saved(world)[2]
        saved["first_prompt"] = "FROM THE SAVED DIGEST"
        state = json.dumps(saved).encode()
    with sqlite3.connect(world.archive_db) as conn:
        conn.execute("UPDATE digests SET state = ?, state_len = ?",
                     (codec.compress(state, 3), len(state)))
        for column, value in (columns or {}).items():
            conn.execute(f"UPDATE digests SET {column} = ?", (value,))


def test_stop_saves_the_digest_and_the_handoff_reads_it_plus_what_came_after(
        world: World) -> None:
    lines = FIXTURE.read_bytes().splitlines(keepends=True)
    world.transcript.write_bytes(b"".join(lines[:-6]))
    _stop(world)
    assert _saved(world)[1] == world.transcript.stat().st_size
    _tamper(world)
    with open(world.transcript, "ab") as handle:  # the last reply lands after the Stop
        handle.write(b"".join(lines[-6:]))
    text = _handoff(world)
    assert "FROM THE SAVED DIGEST" in text
    full = digest_lines(SESSION, FIXTURE.read_bytes().splitlines())
    assert full.last_reply is not None and full.last_reply[:60] in text


def test_a_stop_folds_only_what_it_archived_and_reads_nothing_back(world: World) -> None:
    """Every frame archived before this Stop is damaged: the Stop neither needs nor reads them,
    so its digest still gains the new reply (a read would fail, and only warn)."""
    lines = FIXTURE.read_bytes().splitlines(keepends=True)
    world.transcript.write_bytes(b"".join(lines[:-6]))
    _stop(world)
    with sqlite3.connect(world.archive_db) as conn:
        conn.execute("UPDATE chunks SET data = zeroblob(length(data))")
    with open(world.transcript, "ab") as handle:
        handle.write(b"".join(lines[-6:]))
    run = run_target(HOOK_TARGETS_BY_EVENT["Stop"], encode(payload(world)), world)
    check_contract(run, None)
    assert not [line for line in run.log if "digest" in line], run.log
    _, offset, state = _saved(world)
    assert offset == world.transcript.stat().st_size
    full = digest_lines(SESSION, FIXTURE.read_bytes().splitlines())
    assert state == loads(dumps(full.to_state()))


@pytest.mark.parametrize("columns", [{"generation": 7}, {"offset": 10 ** 9}])
def test_a_saved_digest_of_other_bytes_is_not_used(world: World,
                                                   columns: dict[str, object]) -> None:
    _stop(world)
    _tamper(world, columns=columns)
    text = _handoff(world)
    assert "FROM THE SAVED DIGEST" not in text
    assert "Please add retry logic" in text  # folded from the start instead


def test_a_damaged_digest_means_a_fold_from_the_start(world: World) -> None:
    _stop(world)
    with sqlite3.connect(world.archive_db) as conn:
        conn.execute("UPDATE digests SET state = zeroblob(length(state))")
    assert "Please add retry logic" in _handoff(world)
    _, offset, state = _saved(world)  # and saved again, whole
    assert offset == world.transcript.stat().st_size and state["first_prompt"]


def test_hooks_do_not_fold_a_huge_session_from_the_start(world: World) -> None:
    """With no saved digest, a hook's ingest folds the archived bytes only up to a limit; the
    next SessionStart (no limit) folds them once."""
    with open_archive(world.project) as archive:
        ingest_file(archive.db, world.transcript, archive.settings)
        archive.db.conn.execute("DELETE FROM digests")
        record = file_at(archive.db.conn, str(world.transcript))
        assert record is not None
        limit = archive.settings.max_indexed_line_bytes
        assert digest_of(archive.db.conn, record, 1000, max_line_bytes=limit) is None
        found = digest_of(archive.db.conn, record, max_line_bytes=limit)
        assert found is not None and found[1] == record.committed


def test_a_digest_saved_against_an_archive_since_rebuilt_is_not_trusted(world: World) -> None:
    """Same file id, generation, path and length after a rebuild from a rewritten transcript:
    the rebuilt archive's digest is folded from the rewritten bytes."""
    _stop(world)
    original = world.transcript.read_bytes()
    rewritten = original.replace(b"Please add retry logic", b"REWRITTEN PROMPT XXXXX")
    assert len(rewritten) == len(original) and rewritten != original
    world.transcript.write_bytes(rewritten)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{world.archive_db}{suffix}").unlink(missing_ok=True)
    assert run_cli("import", "--project", str(world.project), env=world.env).returncode == 0
    text = _handoff(world)
    assert "REWRITTEN PROMPT" in text and "Please add retry logic" not in text


@pytest.mark.parametrize("damage", ["infinite count", "deep nesting", "not UTF-8"])
def test_a_hostile_digest_costs_nothing_but_a_fold(world: World, damage: str) -> None:
    """Nothing rewrites a damaged state but a fold: it must never fail a hook instead."""
    _stop(world)
    saved = _saved(world)[2]
    saved["prompts"] = 1e400  # written as Infinity
    _tamper(world, {"infinite count": json.dumps(saved).encode(), "deep nesting": b"[" * 100_000,
                    "not UTF-8": b"\xff\xfe"}[damage])
    assert "Please add retry logic" in _handoff(world)  # check_contract: no ERROR logged
    _stop(world)
    expected = digest_lines(SESSION, FIXTURE.read_bytes().splitlines()).prompts
    assert _saved(world)[2]["prompts"] == expected


def test_a_digest_that_cannot_be_updated_never_costs_the_save(world: World) -> None:
    """A damaged frame makes the fold from the start fail: Stop still saves, records git
    state, and only warns (the next SessionStart folds, or reports the damage)."""
    lines = FIXTURE.read_bytes().splitlines(keepends=True)
    world.transcript.write_bytes(b"".join(lines[:-6]))
    _stop(world)
    with sqlite3.connect(world.archive_db) as conn:
        conn.execute("DELETE FROM digests")
        conn.execute("UPDATE chunks SET data = zeroblob(length(data)) WHERE offset = 0")
        conn.execute("DELETE FROM session_state")
    with open(world.transcript, "ab") as handle:
        handle.write(b"".join(lines[-6:]))
    run = run_target(HOOK_TARGETS_BY_EVENT["Stop"], encode(payload(world)), world)
    check_contract(run, None)
    assert any("saved digest not updated" in line for line in run.log)
    with sqlite3.connect(world.archive_db) as conn:
        assert conn.execute("SELECT count(*) FROM session_state").fetchone()[0] == 1
        (committed,) = conn.execute("SELECT committed FROM files").fetchone()
    assert committed == world.transcript.stat().st_size


def test_a_digest_that_cannot_be_saved_never_costs_the_save(world: World) -> None:
    """The digest is written under its own savepoint: when that write fails, the frames and
    index rows of the same ingest are committed all the same."""
    with open_archive(world.project):
        pass
    with sqlite3.connect(world.archive_db) as conn:
        conn.execute("CREATE TRIGGER no_digests BEFORE INSERT ON digests"
                     " BEGIN SELECT RAISE(ABORT, 'digests are read-only here'); END")
    run = run_target(HOOK_TARGETS_BY_EVENT["Stop"], encode(payload(world)), world)
    check_contract(run, None)
    assert any("digest not saved" in line for line in run.log), run.log
    assert export(world) == FIXTURE.read_bytes()
    with sqlite3.connect(world.archive_db) as conn:
        assert conn.execute("SELECT count(*) FROM entries").fetchone()[0] > 0
        assert conn.execute("SELECT count(*) FROM digests").fetchone()[0] == 0


def test_an_import_keeps_a_digest_for_every_session_transcript(project: Path) -> None:
    """Bulk imports fold digests too (with the bulk parser): what the handoff reads equals a
    fold of the archived lines by the standard parser."""
    with open_archive(project) as archive:
        ingest_paths(archive, corpus_files())
        conn = archive.db.conn
        sessions = conn.execute(
            "SELECT f.id, s.uuid, f.kind FROM files f JOIN sessions s ON s.id = f.session_id"
            " WHERE f.kind IN ('session', 'subagent')").fetchall()
        assert {kind for _, _, kind in sessions} == {"session", "subagent"}
        for file_id, uuid, kind in sessions:
            blob, length, offset = conn.execute(
                "SELECT state, state_len, offset FROM digests WHERE file_id = ?",
                (file_id,)).fetchone()
            record = conn.execute("SELECT path FROM files WHERE id = ?", (file_id,)).fetchone()
            found = file_at(conn, record[0])
            assert found is not None and offset == found.committed
            expected = fold_lines(Digest(uuid, kind == "subagent"),
                                  file_lines(conn, found)).to_state()
            assert loads(codec.decompress(blob, length)) == loads(dumps(expected)), uuid


def test_a_damaged_frame_costs_only_its_own_digest_on_refresh(project: Path) -> None:
    """After an upgrade every digest is rebuilt from the archive: one session whose frames are
    damaged is reported, and every other session still gets its digest (the command does not
    fail on derived data)."""
    with open_archive(project) as archive:
        ingest_paths(archive, corpus_files()[:4])
        conn = archive.db.conn
        ids = [row[0] for row in conn.execute(
            "SELECT id FROM files WHERE kind IN ('session', 'subagent') ORDER BY id")]
        assert len(ids) >= 2
        with archive.db.write() as write:
            write.execute("DELETE FROM digests")
            write.execute("UPDATE chunks SET data = zeroblob(length(data)) WHERE file_id = ?",
                          (ids[0],))
        done, problems = refresh_digests(archive.db, archive.settings.max_indexed_line_bytes)
        assert done == len(ids) - 1
        assert len(problems) == 1 and f"file {ids[0]}" in problems[0]
        kept = {row[0] for row in conn.execute("SELECT file_id FROM digests")}
        assert kept == set(ids[1:])


def test_a_transcript_imported_under_another_name_keeps_its_whole_digest(
        project: Path, tmp_path: Path) -> None:
    """A copy named otherwise (an export, a renamed file) is filed under the session its lines
    name, which its first line (a queue-operation, not a message) already does: the saved
    digest is that session's, not an empty one for the file's name."""
    copy = tmp_path / "exported session.jsonl"
    copy.write_bytes(FIXTURE.read_bytes())
    with open_archive(project) as archive:
        ingest_paths(archive, [copy])
        conn = archive.db.conn
        record = file_at(conn, str(copy))
        assert record is not None and record.session_uuid == SESSION
        blob, length = conn.execute("SELECT state, state_len FROM digests WHERE file_id = ?",
                                    (record.file_id,)).fetchone()
        saved = loads(codec.decompress(blob, length))
    expected = digest_lines(SESSION, FIXTURE.read_bytes().splitlines())
    assert saved["prompts"] == expected.prompts and saved["prompts"]
    assert saved == loads(dumps(expected.to_state()))


def test_a_line_too_long_to_index_is_left_out_of_every_digest(project: Path,
                                                               tmp_path: Path) -> None:
    """Ingest does not parse a line past ``max_indexed_line_bytes`` (it is archived verbatim):
    a digest folded again from the archive (an upgrade, a stale digest) leaves it out too, so
    both ways give one digest."""
    (project / ".claude").mkdir(exist_ok=True)
    (project / ".claude" / "session-core.json").write_text('{"max_indexed_line_bytes": 4096}')
    lines = FIXTURE.read_bytes().splitlines(keepends=True)
    edit = json.dumps({
        "type": "assistant", "sessionId": SESSION, "uuid": "99999999-0000-4000-8000-000000000001",
        "timestamp": "2026-11-23T09:59:00.000Z", "message": {"role": "assistant", "content": [
            {"type": "tool_use", "id": "toolu_long", "name": "Write",
             "input": {"file_path": "/p/long_written.py", "content": "x" * 8000}}]}})
    transcript = tmp_path / f"{SESSION}.jsonl"
    transcript.write_bytes(b"".join(lines) + edit.encode() + b"\n")
    with open_archive(project) as archive:
        ingest_file(archive.db, transcript, archive.settings)
        conn = archive.db.conn
        record = file_at(conn, str(transcript))
        assert record is not None
        blob, length = conn.execute("SELECT state, state_len FROM digests").fetchone()
        by_ingest = loads(codec.decompress(blob, length))
        conn.execute("DELETE FROM digests")
        found = digest_of(conn, record, max_line_bytes=archive.settings.max_indexed_line_bytes)
    assert found is not None and found[1] == record.committed
    assert loads(dumps(found[0].to_state())) == by_ingest
    assert "long_written" not in json.dumps(by_ingest)
