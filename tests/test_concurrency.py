"""Many hooks at once: 16 processes write one archive; nothing lost, doubled, or locked out."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from session_core.store.archive import open_archive
from session_core.store.summary import list_sessions

from .conftest import FIXTURES, SHARED

UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MESSAGE_TYPES = {"user", "assistant", "system"}


def _variant(data: bytes, n: int) -> bytes:
    """The same session with every id rewritten: a different session for the archive."""
    return UUID.sub(lambda m: b"%08x" % n + m.group(0)[8:], data)


def _expected_keys(files: list[Path]) -> set[str]:
    """Independent of the code under test: one index entry per message uuid (or line)."""
    keys = set()
    for path in files:
        for line in path.read_bytes().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("type") in MESSAGE_TYPES:
                keys.add(record.get("uuid") or line.decode())
    return keys


@pytest.mark.slow
def test_sixteen_processes_share_one_archive(project: Path, tmp_path: Path) -> None:
    shared_session = SHARED / "marot-spotter" / "ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl"
    identical = [
        shared_session,
        *sorted((shared_session.parent / shared_session.stem / "subagents").glob("*.jsonl")),
        FIXTURES / "6b32797c-28fc-4a1f-b9c8-863fe6c99815.jsonl",
    ]
    different = []
    for n in range(16):
        path = tmp_path / f"distinct-{n}" / "short.jsonl"
        path.parent.mkdir()
        path.write_bytes(_variant((FIXTURES / "short.jsonl").read_bytes(), n))
        different.append(path)

    procs = []
    for n in range(16):
        order = identical[n % 3:] + identical[: n % 3]
        files = [different[n], *order] if n % 2 else [*order, different[n]]
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "session_core", "import", "--project", str(project),
             *map(str, files)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    for proc in procs:
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()
        assert b"locked" not in err

    with open_archive(project) as archive:
        conn = archive.db.conn
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        entries = conn.execute("SELECT count(*), count(DISTINCT key) FROM entries").fetchone()
        assert entries[0] == entries[1] == len(_expected_keys(identical + different))
        sessions = list_sessions(conn)[0]
        assert len(sessions) == 16 + 2
        archived = conn.execute("SELECT path, size FROM files ORDER BY path").fetchall()
        assert archived == sorted((str(p), p.stat().st_size) for p in identical + different)
        fts = conn.execute("SELECT count(*) FROM entries_fts WHERE entries_fts MATCH"
                           " 'phx OR server'").fetchone()[0]
        assert fts > 0


@pytest.mark.slow
def test_hooks_racing_a_growing_transcript_never_see_a_rewrite(project: Path,
                                                              tmp_path: Path) -> None:
    """Claude Code appends while several hook processes ingest the same file."""
    source = (FIXTURES / "6b32797c-28fc-4a1f-b9c8-863fe6c99815.jsonl").read_bytes()
    lines = source.splitlines(keepends=True)
    live = tmp_path / "6b32797c-28fc-4a1f-b9c8-863fe6c99815.jsonl"
    live.write_bytes(b"")
    script = ("import sys; from pathlib import Path; from session_core.store.archive import"
              " open_archive; from session_core.transcript.ingest import ingest_file\n"
              "a = open_archive(sys.argv[1]); live = Path(sys.argv[2])\n"
              "while live.stat().st_size < int(sys.argv[3]):\n"
              "    r = ingest_file(a.db, live, a.settings)\n"
              "    assert not r.rewritten, r.warnings\n")
    open_archive(project).close()
    hooks = [subprocess.Popen([sys.executable, "-c", script, str(project), str(live),
                               str(len(source))], stderr=subprocess.PIPE) for _ in range(4)]
    time.sleep(1)  # let the hooks start racing
    for line in lines:
        with open(live, "ab") as handle:
            handle.write(line)
        time.sleep(0.01)
    for hook in hooks:
        _, err = hook.communicate(timeout=300)
        assert hook.returncode == 0, err.decode()
    with open_archive(project) as archive:
        from session_core.transcript.ingest import ingest_file

        ingest_file(archive.db, live, archive.settings)
        generations = archive.db.conn.execute("SELECT DISTINCT generation FROM chunks").fetchall()
        assert generations == [(0,)]
        from session_core.store.files import of_session as session_files
        from session_core.store.frames import read as file_bytes

        (record,) = session_files(archive.db.conn, 1)
        assert b"".join(file_bytes(archive.db.conn, record)) == source
