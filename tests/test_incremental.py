"""Incremental ingest: appends in arbitrary pieces, partial lines, rewrites and truncation."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from session_core.cli.export import export_session
from session_core.store import codec
from session_core.store.archive import Archive, open_archive
from session_core.transcript.ingest import compact_file, ingest_file

from .conftest import FIXTURES, SHARED, archive_dump, corpus_transcripts

SMALL = [FIXTURES / "short.jsonl", FIXTURES / "6b32797c-28fc-4a1f-b9c8-863fe6c99815.jsonl"]
SUBAGENT = (SHARED / "marot-spotter" / "ae4a77f8-aedd-4bc1-888f-c94edc91af04" / "subagents"
            / "agent-aac57f5.jsonl")


def _export(archive: Archive, session: str) -> bytes:
    out = io.BytesIO()
    export_session(archive.db.conn, session, out)
    return out.getvalue()


def _one_shot(tmp: Path, name: str, data: bytes) -> dict[str, list[tuple[Any, ...]]]:
    project = tmp / "one-shot"
    project.mkdir(exist_ok=True)
    target = tmp / "one" / name
    target.parent.mkdir(exist_ok=True)
    target.write_bytes(data)
    with open_archive(project) as archive:
        ingest_file(archive.db, target, archive.settings)
        return _normalised(archive, target)


def _normalised(archive: Archive, path: Path) -> dict[str, list[tuple[Any, ...]]]:
    dump = archive_dump(archive)
    text = str(path)
    for key in ("entries", "files"):
        dump[key] = [tuple("FILE" if v == text else v for v in row) for row in dump[key]]
    return dump


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(source=st.sampled_from([*SMALL, SUBAGENT]), cuts=st.lists(
    st.floats(min_value=0, max_value=1), min_size=1, max_size=12))
def test_appending_in_random_pieces_equals_one_import(tmp_path_factory: object, source: Path,
                                                      cuts: list[float]) -> None:
    tmp = tmp_path_factory.mktemp("pieces")  # type: ignore[attr-defined]
    data = source.read_bytes()
    offsets = sorted({int(c * len(data)) for c in cuts} | {len(data)})
    growing = tmp / "live" / source.name
    growing.parent.mkdir()
    growing.write_bytes(b"")
    project = tmp / "piecewise"
    project.mkdir()
    with open_archive(project) as archive:
        start = 0
        for end in offsets:
            with open(growing, "ab") as handle:
                handle.write(data[start:end])
            start = end
            ingest_file(archive.db, growing, archive.settings)
        piecewise = _normalised(archive, growing)
        again = ingest_file(archive.db, growing, archive.settings)
        assert again.new_bytes == 0 and again.new_entries == 0
    assert piecewise == _one_shot(tmp, source.name, data)


def test_a_partial_last_line_waits_for_its_newline(archive: Archive, tmp_path: Path) -> None:
    path = tmp_path / "11111111-2222-3333-4444-555555555555.jsonl"
    first = (b'{"type":"user","uuid":"aaaaaaaa-0000-0000-0000-000000000001","sessionId":'
             b'"11111111-2222-3333-4444-555555555555","message":{"role":"user",'
             b'"content":"first prompt"},"timestamp":"2026-01-01T00:00:00Z"}\n')
    second = first.replace(b"0001", b"0002").replace(b"first", b"second")
    path.write_bytes(first + second[:40])
    report = ingest_file(archive.db, path, archive.settings)
    assert report.new_entries == 1 and report.pending_bytes == 40
    assert _export(archive, "11111111") == first + second[:40]  # lossless even mid-line

    with open(path, "ab") as handle:
        handle.write(second[40:])
    report = ingest_file(archive.db, path, archive.settings)
    assert report.new_entries == 1 and report.pending_bytes == 0
    assert _export(archive, "11111111") == first + second
    count = archive.db.conn.execute("SELECT count(*) FROM entries").fetchone()[0]
    assert count == 2


def test_rewritten_file_is_reingested_without_duplicates(archive: Archive,
                                                         tmp_path: Path) -> None:
    source = SMALL[1].read_bytes()
    path = tmp_path / SMALL[1].name
    path.write_bytes(source)
    ingest_file(archive.db, path, archive.settings)
    entries = archive.db.conn.execute("SELECT count(*) FROM entries").fetchone()[0]

    lines = source.splitlines(keepends=True)
    rewritten = b"".join(lines[:10]) + b'{"type":"summary","summary":"rewritten"}\n'
    path.write_bytes(rewritten)  # shorter than what was ingested: truncated and rewritten
    report = ingest_file(archive.db, path, archive.settings)
    assert report.rewritten
    assert archive.db.conn.execute("SELECT count(*) FROM entries").fetchone()[0] == entries
    assert _export(archive, SMALL[1].stem) == rewritten
    generations = archive.db.conn.execute(
        "SELECT generation, sum(raw_len) FROM chunks GROUP BY generation ORDER BY 1").fetchall()
    assert generations == [(0, len(source)), (1, len(rewritten))]  # the old bytes are kept


def test_same_size_rewrite_is_detected_by_fingerprint(archive: Archive, tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(b'{"type":"system","content":"aaaa"}\n')
    ingest_file(archive.db, path, archive.settings)
    path.write_bytes(b'{"type":"system","content":"bbbb"}\n{"type":"system"}\n')
    report = ingest_file(archive.db, path, archive.settings)
    assert report.rewritten
    assert archive.db.conn.execute("SELECT count(*) FROM entries").fetchone()[0] == 3


def test_resumed_copy_in_another_file_is_not_indexed_twice(archive: Archive,
                                                           tmp_path: Path) -> None:
    data = SMALL[0].read_bytes()
    first, second = tmp_path / "a" / "short.jsonl", tmp_path / "b" / "short.jsonl"
    for path in (first, second):
        path.parent.mkdir()
        path.write_bytes(data)
    ingest_file(archive.db, first, archive.settings)
    before = archive.db.conn.execute("SELECT count(*) FROM entries").fetchone()[0]
    report = ingest_file(archive.db, second, archive.settings)
    assert report.new_entries == 0 and report.new_bytes == len(data)  # bytes kept, index not
    assert archive.db.conn.execute("SELECT count(*) FROM entries").fetchone()[0] == before


def test_many_small_saves_are_merged_into_few_frames(archive: Archive, tmp_path: Path) -> None:
    data = SHARED.joinpath("marot-spotter", "tool_heavy.jsonl").read_bytes()
    path = tmp_path / "tool_heavy.jsonl"
    path.write_bytes(b"")
    lines = data.splitlines(keepends=True)
    for line in lines:  # one hook save per line: the worst case for compression
        with open(path, "ab") as handle:
            handle.write(line)
        ingest_file(archive.db, path, archive.settings)
    frames, stored = archive.db.conn.execute(
        "SELECT count(*), sum(length(data)) FROM chunks").fetchone()
    assert frames <= archive.settings.repack_after_frames
    unmerged = sum(len(codec.compress(line, archive.settings.compression_level))
                   for line in lines)
    assert stored < unmerged

    compact_file(archive.db, path, archive.settings)
    frames, stored = archive.db.conn.execute(
        "SELECT count(*), sum(length(data)) FROM chunks").fetchone()
    assert frames == 1
    assert stored <= len(codec.compress(data, archive.settings.compression_level))
    session = archive.db.conn.execute("SELECT uuid FROM sessions").fetchone()[0]
    assert _export(archive, session) == data


def test_loose_file_whose_first_lines_name_no_session_is_filed_under_the_right_one(
        archive: Archive, tmp_path: Path) -> None:
    """Real transcripts can open with large records that carry no sessionId (snapshots)."""
    snapshot = b'{"type":"file-history-snapshot","snapshot":{"x":"' + b"y" * 70_000 + b'"}}\n'
    path = tmp_path / "bugfix.jsonl"
    path.write_bytes(snapshot + SMALL[0].read_bytes())
    ingest_file(archive.db, path, archive.settings)
    sessions = [s for (s,) in archive.db.conn.execute("SELECT uuid FROM sessions")]
    assert sessions == ["55604662-cf2a-4331-851a-ec234028f8ca"]
    assert _export(archive, "55604662") == path.read_bytes()


def test_a_file_as_archived_is_checked_without_waiting_for_the_lock(project: Path,
                                                                   tmp_path: Path) -> None:
    """Hooks save on every event, mostly finding nothing new: that check takes no write lock,
    so it neither waits for another writer nor makes one wait."""
    import sqlite3

    from session_core.base.errors import BusyError
    from session_core.base.settings import Settings

    transcript = tmp_path / "session.jsonl"
    transcript.write_bytes((FIXTURES / "short.jsonl").read_bytes())
    quick = Settings().replace(busy_timeout_ms=100)
    with open_archive(project, quick) as archive:
        ingest_file(archive.db, transcript, archive.settings)
        other = sqlite3.connect(archive.db.path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        try:
            report = ingest_file(archive.db, transcript, archive.settings)
            assert report.pending_bytes == 0 and report.session_uuid is not None
            with open(transcript, "ab") as handle:
                handle.write(b'{"type":"user"}\n')
            with pytest.raises(BusyError):  # something new: that does wait for the lock
                ingest_file(archive.db, transcript, archive.settings)
        finally:
            other.execute("ROLLBACK")
            other.close()


def test_index_rows_written_before_a_files_end_are_the_same_index(tmp_path: Path,
                                                                   monkeypatch: Any) -> None:
    """A bulk import writes a huge file's index rows before its end (memory stays bounded):
    the index is the one written at the batch's commit, and a file rolled back mid-way takes
    back the rows it wrote early, not the earlier files' rows still waiting."""
    from session_core.cli.backfill import ingest_paths
    from session_core.store import connection, entries, forgotten

    tiny = tmp_path / "11111111-2222-4333-8444-000000000001.jsonl"  # its rows stay deferred
    tiny.write_text('{"type":"user","sessionId":"11111111-2222-4333-8444-000000000001","uuid":'
                    '"11111111-2222-4333-8444-000000000002","message":{"role":"user",'
                    '"content":"tiny words"}}\n')
    corpus = [*corpus_transcripts(), tiny]

    def index_of(name: str, files: list[Path], loose: Path | None = None) -> object:
        project = tmp_path / name
        project.mkdir()
        with open_archive(project) as archive:
            if loose is not None:
                with archive.db.write() as conn:
                    forgotten.add(conn, LOOSE_SESSION, "2026-12-01T00:00:00.000Z")
            summary = ingest_paths(archive, files + ([loose] if loose else []))
            assert not summary.failures, summary.failures
            return entries.fingerprints(archive.db.conn)

    reference = index_of("at-commit", corpus)
    monkeypatch.setattr(connection, "MAX_DEFERRED_CHARS", 2000)
    monkeypatch.setattr(connection, "BATCH_SECONDS", 3600)  # one batch: every row waits in it
    assert index_of("early", corpus) == reference
    loose = tmp_path / "loose-copy.jsonl"  # no session in its name: its records decide, late
    loose.write_bytes(SUBAGENT.read_bytes().replace(b"-4", b"-5")  # messages of its own
                      .replace(SUBAGENT_SESSION.replace("-4", "-5").encode(),
                               LOOSE_SESSION.encode()))
    assert index_of("rolled-back", corpus, loose) == reference


LOOSE_SESSION = "f0f0f0f0-1111-4222-8333-444444444444"
SUBAGENT_SESSION = "ae4a77f8-aedd-4bc1-888f-c94edc91af04"
