"""kill -9 at random moments, 200 times, of an import and of a Stop hook: the archive always
opens and passes the checks, holds only whole transactions (every archived file is a prefix of
its transcript), and the next ingest completes it byte for byte."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from session_core.base import locations
from session_core.store import files, frames
from session_core.store.connection import open_read_only
from session_core.store.verify import HEALTHY, check_file

from .conftest import SHARED, run_cli
from .hookkit import HOOKS

SOURCES = [SHARED / "marot-spotter" / "8463c716-a2ea-4c14-9efa-87158ebd9f20.jsonl",
           SHARED / "marot-spotter" / "ae4a77f8-aedd-4bc1-888f-c94edc91af04.jsonl",
           SHARED / "confab-web" / "session_comprehensive.jsonl"]
ROUNDS = 200


def _archived(archive: Path) -> dict[str, bytes]:
    conn = open_read_only(str(archive))
    try:
        paths = [row[0] for row in conn.execute("SELECT path FROM files")]
        return {path: b"".join(frames.read(conn, record)) for path in paths
                if (record := files.at_path(conn, path)) is not None}
    finally:
        conn.close()


@pytest.mark.slow
def test_kill_minus_nine_never_leaves_half_a_transaction(project: Path, tmp_path: Path) -> None:
    folder = tmp_path / "transcripts"
    folder.mkdir()
    lines = {source.name: source.read_bytes().splitlines(keepends=True) for source in SOURCES}
    written = dict.fromkeys(lines, 0)
    archive = Path(locations.archive_path(project))
    env = {**os.environ, "CLAUDE_PROJECT_DIR": str(project)}
    rng = random.Random(9)
    killed = 0
    for round_ in range(ROUNDS):
        name = rng.choice(sorted(lines))
        step = rng.randint(5, 120)  # the session goes on: new lines, sometimes a big batch
        with open(folder / name, "ab") as out:
            out.write(b"".join(lines[name][written[name]:written[name] + step]))
        written[name] = min(len(lines[name]), written[name] + step)
        if round_ % 2:
            payload = {"session_id": "x", "transcript_path": str(folder / name),
                       "cwd": str(project), "hook_event_name": "Stop"}
            argv = [sys.executable, str(HOOKS / "run.py"), "Stop"]
            stdin = json.dumps(payload).encode()
        else:
            argv = [sys.executable, "-m", "session_core", "import", *map(
                str, sorted(folder.iterdir())), "--project", str(project)]
            stdin = b""
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=env, cwd=project)
        assert proc.stdin is not None
        proc.stdin.write(stdin)
        proc.stdin.close()
        time.sleep(rng.uniform(0.0, 0.35))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            killed += 1
        proc.wait()
        if not archive.exists():
            continue
        report = check_file(str(archive))
        assert report.state == HEALTHY, (round_, [f.render() for f in report.findings])
        for path, data in _archived(archive).items():
            source = Path(path).read_bytes()
            assert source.startswith(data), (round_, path, len(data), len(source))
    assert killed > ROUNDS // 4, killed  # the kills did land mid-work
    done = run_cli("import", *map(str, sorted(folder.iterdir())), "--project", str(project))
    assert done.returncode == 0, done.stderr
    archived = _archived(archive)
    for transcript in folder.iterdir():
        assert archived[str(transcript)] == transcript.read_bytes(), transcript
    assert run_cli("verify", "--project", str(project)).returncode == 0
