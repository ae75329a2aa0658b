"""The saved digest: a handoff that folds only what came after the last save, and never a
digest that belongs to other bytes."""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from session_core.archive import open_archive
from session_core.digest import Digest, digest_lines, fold_lines
from session_core.digest_cache import CACHE_DIR, session_digest
from session_core.ingest import ingest_file
from session_core.jsonlite import dumps, loads
from session_core.live import archive_dir_for, session_file
from session_core.queries import file_at
from session_core.readback import file_lines

from .conftest import corpus_files, run_cli
from .test_handoff import session_lines
from .test_hook_contract import (
    FIXTURE,
    HOOK_TARGETS_BY_EVENT,
    SESSION,
    World,
    check_contract,
    encode,
    make_world,
    payload,
    run_target,
)

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
                   {**good, "changed_files": [1]}, {**good, "errors": [None]},
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


def _cache(world: World) -> Path:
    return Path(session_file(archive_dir_for(str(world.project)), CACHE_DIR, SESSION))


def _tamper(world: World, **changes: object) -> None:
    """Mark the saved digest: a handoff that shows the mark read the cache."""
    saved = json.loads(_cache(world).read_text())
    saved["digest"]["first_prompt"] = "FROM THE SAVED DIGEST"
    saved.update(changes)
    _cache(world).write_text(json.dumps(saved))


def test_stop_saves_the_digest_and_the_handoff_reads_it_plus_what_came_after(
        world: World) -> None:
    lines = FIXTURE.read_bytes().splitlines(keepends=True)
    world.transcript.write_bytes(b"".join(lines[:-6]))
    _stop(world)
    saved = json.loads(_cache(world).read_text())
    assert saved["offset"] == world.transcript.stat().st_size
    _tamper(world)
    with open(world.transcript, "ab") as handle:  # the last reply lands after the Stop
        handle.write(b"".join(lines[-6:]))
    text = _handoff(world)
    assert "FROM THE SAVED DIGEST" in text
    full = digest_lines(SESSION, FIXTURE.read_bytes().splitlines())
    assert full.last_reply is not None and full.last_reply[:60] in text


@pytest.mark.parametrize("changes", [{"generation": 7}, {"file_id": 999},
                                     {"offset": 10 ** 9}, {"version": 0}])
def test_a_saved_digest_of_other_bytes_is_not_used(world: World,
                                                   changes: dict[str, object]) -> None:
    _stop(world)
    _tamper(world, **changes)
    text = _handoff(world)
    assert "FROM THE SAVED DIGEST" not in text
    assert "Please add retry logic" in text  # folded from the start instead


def test_a_damaged_digest_file_means_a_fold_from_the_start(world: World) -> None:
    _stop(world)
    _cache(world).write_bytes(b"\x00garbage{")
    assert "Please add retry logic" in _handoff(world)
    with sqlite3.connect(world.archive_db) as conn:
        assert conn.execute("SELECT count(*) FROM files").fetchone()[0] >= 1
    assert json.loads(_cache(world).read_text())["offset"] > 0  # and saved again


def test_hooks_do_not_fold_a_huge_session_from_the_start(world: World) -> None:
    """A Stop with no saved digest leaves a session past the limit to SessionStart."""
    with open_archive(world.project) as archive:
        ingest_file(archive.db, world.transcript, archive.settings)
        record = file_at(archive.db.conn, str(world.transcript))
        assert record is not None
        folder = archive_dir_for(str(world.project))
        assert session_digest(archive.db.conn, folder, SESSION, record, 1000) is None
        assert not _cache(world).exists()
        assert session_digest(archive.db.conn, folder, SESSION, record) is not None
        assert session_digest(archive.db.conn, folder, SESSION, record, 1000) is not None



def test_a_digest_saved_against_an_archive_since_rebuilt_is_not_trusted(world: World) -> None:
    """Same file id, generation, path and length after a rebuild from a rewritten transcript:
    only the content fingerprints tell the saved digest apart."""
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
def test_a_hostile_digest_file_costs_nothing_but_a_fold(world: World, damage: str) -> None:
    """Nothing rewrites a damaged file but a fold: it must never fail a hook instead."""
    _stop(world)
    saved = json.loads(_cache(world).read_text())
    saved["digest"]["prompts"] = 1e400  # written as Infinity
    _cache(world).write_bytes({"infinite count": json.dumps(saved).encode(),
                               "deep nesting": b"[" * 100_000, "not UTF-8": b"\xff\xfe"}[damage])
    assert "Please add retry logic" in _handoff(world)  # check_contract: no ERROR logged
    _stop(world)
    expected = digest_lines(SESSION, FIXTURE.read_bytes().splitlines()).prompts
    assert json.loads(_cache(world).read_text())["digest"]["prompts"] == expected


def test_a_digest_that_cannot_be_updated_never_costs_the_save(world: World) -> None:
    """A damaged frame makes the fold from the start fail: Stop still saves, records git
    state, and only warns (the next SessionStart folds, or reports the damage)."""
    lines = FIXTURE.read_bytes().splitlines(keepends=True)
    world.transcript.write_bytes(b"".join(lines[:-6]))
    _stop(world)
    _cache(world).unlink()
    with sqlite3.connect(world.archive_db) as conn:
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
