"""Bad input never produces a traceback, and never costs a byte of what was good."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

from session_core.store.archive import open_archive
from session_core.store.entries import search
from session_core.transcript.ingest import ingest_file

from .conftest import run_cli

GOOD = (b'{"type":"user","uuid":"aaaaaaaa-0000-4000-8000-000000000001","sessionId":'
        b'"aaaaaaaa-1111-4111-8111-111111111111","message":{"role":"user","content":"hello"},'
        b'"timestamp":"2026-01-01T00:00:00Z"}\n')
LATER = GOOD.replace(b"0001", b"0002").replace(b"hello", b"goodbye")


def _archive_files(project: Path) -> int:
    db = project / ".claude" / "session-core" / "archive.db"
    if not db.exists():
        return 0
    with open_archive(project) as archive:
        return int(archive.db.conn.execute("SELECT count(*) FROM files").fetchone()[0])


def test_broken_lines_are_kept_verbatim_but_not_indexed(project: Path, tmp_path: Path) -> None:
    data = GOOD + b"this is not json\n" + GOOD[:70] + b"\n" + b"\xff\xfe{bad utf8}\n" + LATER
    path = tmp_path / "aaaaaaaa-1111-4111-8111-111111111111.jsonl"
    path.write_bytes(data)
    result = run_cli("import", str(path), "--project", str(project))
    assert result.returncode == 0
    assert b"Traceback" not in result.stderr
    warnings = [w for w in result.stderr.decode().splitlines() if w.startswith("warning:")]
    assert len(warnings) == 3 and all("not indexed" in w for w in warnings)
    assert run_cli("export", "aaaaaaaa", "--project", str(project)).stdout == data
    with open_archive(project) as archive:
        kinds = archive.db.conn.execute("SELECT kind FROM entries ORDER BY offset").fetchall()
        bad = archive.db.conn.execute("SELECT bad_lines FROM files").fetchone()[0]
    assert kinds == [("prompt",), ("prompt",)] and bad == 3


@pytest.mark.parametrize("make", ["binary", "directory", "missing"])
def test_what_is_not_a_transcript_is_refused_and_nothing_stored(
        project: Path, tmp_path: Path, make: str) -> None:
    target = tmp_path / "input.jsonl"
    if make == "binary":
        target.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64)
    elif make == "directory":
        target.mkdir()
    good = tmp_path / "good.jsonl"
    good.write_bytes(GOOD)
    result = run_cli("import", str(good), str(target), "--project", str(project))
    assert result.returncode == 7
    err = result.stderr.decode()
    assert err.startswith("Error: ") and "\nTry: " in err and "Traceback" not in err
    assert str(target) in err
    assert _archive_files(project) == 0


def test_empty_file_is_archived_as_empty(project: Path, tmp_path: Path) -> None:
    path = tmp_path / "bbbbbbbb-1111-4111-8111-111111111111.jsonl"
    path.write_bytes(b"")
    assert run_cli("import", str(path), "--project", str(project)).returncode == 0
    result = run_cli("export", "bbbbbbbb", "--project", str(project))
    assert result.returncode == 0 and result.stdout == b""


@pytest.mark.slow
@pytest.mark.parametrize("newline", [True, False])
def test_a_100_mb_single_line_uses_bounded_memory(project: Path, tmp_path: Path,
                                                  newline: bool) -> None:
    path = tmp_path / "cccccccc-1111-4111-8111-111111111111.jsonl"
    digest = hashlib.sha256()
    with open(path, "wb") as handle:
        head = b'{"type":"user","message":{"role":"user","content":"'
        handle.write(head)
        digest.update(head)
        block = b"0123456789abcdef" * 65536  # 1 MiB
        for _ in range(100):
            handle.write(block)
            digest.update(block)
        tail = b'"}}' + (b"\n" if newline else b"")
        handle.write(tail)
        digest.update(tail)
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the (large) test process.
    script = ("import sys; from session_core.cli.main import main; rc = main(sys.argv[1:]);"
              " hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0];"
              " print(hwm.split()[1], file=sys.stderr); sys.exit(rc)")
    import subprocess

    result = subprocess.run([sys.executable, "-c", script, "import", str(path), "--project",
                             str(project)], capture_output=True, check=False, timeout=300)
    assert result.returncode == 0, result.stderr.decode()
    peak_kib = int(result.stderr.decode().strip().splitlines()[-1])
    assert peak_kib < 160 * 1024, f"peak RSS {peak_kib} KiB for a 100 MiB line"
    exported = run_cli("export", "cccccccc", "--project", str(project))
    assert hashlib.sha256(exported.stdout).digest() == digest.digest()


def test_file_that_vanishes_between_calls_is_an_error_not_a_crash(project: Path,
                                                                  tmp_path: Path) -> None:
    path = tmp_path / "gone.jsonl"
    path.write_bytes(GOOD)
    with open_archive(project) as archive:
        ingest_file(archive.db, path, archive.settings)
        path.unlink()
        from session_core.base.errors import InputError

        with pytest.raises(InputError):
            ingest_file(archive.db, path, archive.settings)


def test_a_line_of_utf8_encoded_surrogates_is_kept_but_not_indexed(project: Path,
                                                                  tmp_path: Path) -> None:
    """What a hook saves (not the bulk import's parser): bytes ``ED A0 80`` decode to a lone
    surrogate that SQLite cannot store; once this failed the whole file at every Stop."""
    bad = GOOD.replace(b"0001", b"0003").replace(b"hello", b"bad \xed\xa0\x80 text")
    hangul = GOOD.replace(b"0001", b"0004").replace(b"hello", "\ud55c\uae00".encode())
    data = GOOD + bad + hangul + LATER
    path = tmp_path / "aaaaaaaa-1111-4111-8111-111111111111.jsonl"
    path.write_bytes(data)
    with open_archive(project) as archive:
        report = ingest_file(archive.db, path, archive.settings)
        found = search(archive.db.conn, "\ud55c\uae00")
    assert report.bad_lines == 1 and report.new_entries == 3
    assert len(found) == 1  # real characters whose UTF-8 starts with byte ED are indexed
    assert run_cli("export", "aaaaaaaa", "--project", str(project)).stdout == data
