"""Lossless: what goes in comes back out byte for byte, through export and through restore."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from session_core.cli.backfill import ingest_paths
from session_core.cli.export import export_session
from session_core.cli.main import main
from session_core.store.archive import Archive, open_archive
from session_core.store.summary import list_sessions
from session_core.transcript import layout

from .conftest import SHARED, archive_dump, corpus_files, run_cli


def _export(archive: Archive, session: str) -> bytes:
    out = io.BytesIO()
    export_session(archive.db.conn, session, out)
    return out.getvalue()


@pytest.mark.parametrize("transcript", corpus_files(), ids=lambda p: str(p.relative_to(SHARED)))
def test_export_reproduces_every_shared_transcript(archive: Archive, transcript: Path) -> None:
    report = ingest_paths(archive, [transcript], strict=True)
    assert report.files == 1
    with archive.db.read() as conn:
        row = conn.execute("SELECT s.uuid, f.kind, f.id FROM files f JOIN sessions s"
                           " ON s.id = f.session_id").fetchone()
    session, kind, _ = row
    if kind == "session":
        assert _export(archive, session) == transcript.read_bytes()
    else:  # a subagent file alone: its bytes come back through restore
        from session_core.store.files import of_session as session_files
        from session_core.store.frames import read as file_bytes

        with archive.db.read() as conn:
            (record,) = session_files(conn, conn.execute(
                "SELECT id FROM sessions WHERE uuid = ?", (session,)).fetchone()[0])
            assert b"".join(file_bytes(conn, record)) == transcript.read_bytes()


def _lay_out_as_claude_does(folder: Path) -> dict[Path, bytes]:
    """Copy the shared corpus into one Claude Code project folder, subagent dirs included."""
    originals: dict[Path, bytes] = {}
    for source in corpus_files():
        rel = source.relative_to(SHARED)
        inner = Path(*rel.parts[1:]) if rel.parts[0] != "claude-code-2.1.328" else Path(rel.name)
        target = folder / inner
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        originals[inner] = source.read_bytes()
    return originals


def test_restore_brings_back_every_file_after_claude_deleted_them(project: Path) -> None:
    folder = Path(layout.project_folder(project))
    originals = _lay_out_as_claude_does(folder)
    assert main(["import", "--project", str(project)]) == 0
    shutil.rmtree(folder)

    with open_archive(project) as archive:
        sessions = [s.uuid for s in list_sessions(archive.db.conn)[0]]
    for session in sessions:
        result = run_cli("restore", session, "--project", str(project))
        assert result.returncode == 0, result.stderr.decode()

    restored = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert sorted(restored.values()) == sorted(originals.values())  # every file, byte for byte
    for rel, data in originals.items():  # Claude Code's own names come back unchanged
        if rel.stem[:8] in {s[:8] for s in sessions} or "subagents" in rel.parts:
            assert restored[rel] == data, rel
    # loose files come back where `claude --resume <id>` looks: <id>.jsonl, <id>/subagents/
    assert {rel.name for rel in restored if len(rel.parts) == 1} == {
        f"{s}.jsonl" for s in sessions}
    assert all(rel.parts[0] in sessions for rel in restored if len(rel.parts) > 1)


def test_restore_refuses_to_overwrite_a_different_file(project: Path) -> None:
    folder = Path(layout.project_folder(project))
    folder.mkdir(parents=True)
    transcript = folder / "6b32797c-28fc-4a1f-b9c8-863fe6c99815.jsonl"
    original = (SHARED / "claude-code-2.1.328/projects/-home-dev-projects-demo-app"
                / transcript.name).read_bytes()
    transcript.write_bytes(original)
    assert main(["import", "--project", str(project)]) == 0
    transcript.write_bytes(b'{"type":"user"}\n')

    result = run_cli("restore", "6b32797c", "--project", str(project))
    assert result.returncode == 4
    assert b"Error:" in result.stderr and b"Try:" in result.stderr
    assert transcript.read_bytes() == b'{"type":"user"}\n'

    transcript.write_bytes(original)  # identical file: nothing to do, no error
    result = run_cli("restore", "6b32797c", "--project", str(project))
    assert result.returncode == 0
    assert b"unchanged" in result.stdout


def test_reimport_changes_nothing(archive: Archive) -> None:
    files = corpus_files()
    ingest_paths(archive, files)
    before = archive_dump(archive)
    again = ingest_paths(archive, files)
    assert again.new_bytes == 0 and again.new_entries == 0
    assert archive_dump(archive) == before


def test_cli_export_writes_the_original_bytes(project: Path, tmp_path: Path) -> None:
    source = SHARED / "confab-web" / "session_comprehensive.jsonl"
    assert run_cli("import", str(source), "--project", str(project)).returncode == 0
    result = run_cli("export", "14c1c0d7", "--format", "jsonl", "--project", str(project))
    assert result.returncode == 0
    assert result.stdout == source.read_bytes()
    out = tmp_path / "out.jsonl"
    console = shutil.which("session-core")
    assert console, "the console script is installed with the package"
    assert run_cli("export", "14c1c0d7", "-o", str(out), "--project", str(project)).returncode == 0
    assert out.read_bytes() == source.read_bytes()
