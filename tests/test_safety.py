"""What a transcript or a command line says never leads a write astray: session ids that try to
escape, export targets that are not regular files, a closed stdout, files that are no
transcripts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import run_cli

ESCAPES = ["../../escaped", "/tmp/absolute-escape", "a/../../b", "x" * 5000, "nul\x00../../x"]


def _transcript(folder: Path, name: str, session: str) -> Path:
    path = folder / name
    lines = [{"type": "user", "sessionId": session,
              "uuid": f"00000000-0000-4000-8000-00000000000{n}",
              "timestamp": f"2026-11-0{n + 1}T10:00:00.000Z",
              "message": {"role": "user", "content": f"hello {n}"}} for n in range(2)]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def _tree(root: Path) -> set[str]:
    return {str(path) for path in root.rglob("*")}


@pytest.mark.parametrize("session", ESCAPES, ids=["dotdot", "absolute", "inner", "long", "nul"])
def test_restore_and_export_never_write_outside_their_target(project: Path, tmp_path: Path,
                                                             session: str) -> None:
    source = tmp_path / "in"
    source.mkdir()
    transcript = _transcript(source, "evil.jsonl", session)
    assert run_cli("import", str(transcript), "--project", str(project)).returncode == 0
    listed = json.loads(run_cli("list", "--json", "--project", str(project)).stdout)
    assert [row["uuid"] for row in listed] == [session]
    session = session.split("\x00")[0]  # a NUL cannot be passed on a command line: a prefix
    target = tmp_path / "sandbox" / "deep" / "target"
    target.mkdir(parents=True)
    before = _tree(tmp_path)
    absolute_before = Path("/tmp/absolute-escape.jsonl").exists()
    restored = run_cli("restore", session, "--to", str(target), "--project", str(project))
    assert b"Traceback" not in restored.stderr
    written = _tree(tmp_path) - before
    assert all(path.startswith(str(target) + os.sep) for path in written), written
    if restored.returncode != 0:
        assert restored.returncode == 7 and b"export" in restored.stderr, restored.stderr
    out = target / "session.jsonl"
    exported = run_cli("export", session, "-o", str(out), "--project", str(project))
    assert exported.returncode == 0 and out.read_bytes() == transcript.read_bytes()
    assert Path("/tmp/absolute-escape.jsonl").exists() == absolute_before


def test_export_refuses_a_target_that_is_not_a_regular_file(project: Path,
                                                            tmp_path: Path) -> None:
    source = tmp_path / "in"
    source.mkdir()
    transcript = _transcript(source, "fine.jsonl", "11111111-2222-4333-8444-555555555555")
    assert run_cli("import", str(transcript), "--project", str(project)).returncode == 0
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    link = tmp_path / "link.jsonl"
    link.symlink_to(victim)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for target in (link, fifo, tmp_path):
        result = run_cli("export", "11111111", "-o", str(target), "--project", str(project))
        assert result.returncode == 7 and b"regular file" in result.stderr, result.stderr
    assert victim.read_text() == "keep me" and link.is_symlink()


def test_export_to_a_closed_stdout_is_an_error_not_a_traceback(project: Path,
                                                              tmp_path: Path) -> None:
    source = tmp_path / "in"
    source.mkdir()
    transcript = _transcript(source, "fine.jsonl", "11111111-2222-4333-8444-555555555555")
    assert run_cli("import", str(transcript), "--project", str(project)).returncode == 0
    result = subprocess.run(
        [sys.executable, "-m", "session_core", "export", "11111111", "--project", str(project)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False, timeout=60,
        preexec_fn=lambda: os.close(1))  # the point: fd 1 closed
    assert result.returncode == 2 and b"Error: standard output is closed" in result.stderr
    assert b"Traceback" not in result.stderr


def test_import_refuses_files_that_are_not_transcripts(project: Path, tmp_path: Path) -> None:
    passwd = tmp_path / "passwd"
    passwd.write_text("root:x:0:0:root:/root:/bin/bash\n")
    readme = tmp_path / "README.md"
    readme.write_text("# demo project\n")
    package = tmp_path / "package.json"
    package.write_text('{"name": "demo", "version": "1.0.0"}\n')
    objects = tmp_path / "data.jsonl"  # JSON objects, but none a record Claude Code writes
    objects.write_text('{"a": 1}\n{"type": "event", "ts": 5}\n')
    for path in (passwd, Path("/etc/hostname"), readme, package, objects):
        if path.exists():
            result = run_cli("import", str(path), "--project", str(project))
            assert result.returncode == 7 and b"not a Claude Code transcript" in result.stderr
    assert not (project / ".claude").exists()  # refused before an archive was made


def test_import_takes_real_transcripts_that_start_oddly(project: Path, tmp_path: Path) -> None:
    """Found in review: a transcript holding only its first file-history snapshot, one whose
    last line has no newline yet, one whose second line is a 80 KB prompt."""
    snapshot = json.dumps({"type": "file-history-snapshot", "messageId": "m1",
                           "snapshot": {"messageId": "m1", "trackedFileBackups": {}},
                           "isSnapshotUpdate": False})
    prompt = json.dumps({"type": "user", "sessionId": "88888888-1111-4222-8333-444444444444",
                         "uuid": "88888888-1111-4222-8333-555555555555",
                         "message": {"role": "user", "content": "x" * 80_000}})
    cases = {"only-snapshot.jsonl": snapshot + "\n", "no-newline.jsonl": snapshot,
             "long-second-line.jsonl": snapshot + "\n" + prompt + "\n"}
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text)
        done = run_cli("import", str(path), "--project", str(project))
        assert done.returncode == 0, (name, done.stderr)
