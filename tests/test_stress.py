"""16 Stop hooks on growing transcripts, 2 imports and backups, all at once for 60 s: nothing
lost or duplicated, no lock error escapes, integrity holds; the slowest hook is reported."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from session_core.base import locations

from .conftest import FIXTURES, run_cli
from .hookkit import HOOKS

SECONDS = 60.0
HOOKS_AT_ONCE = 16
LINES = (FIXTURES / "6b32797c-28fc-4a1f-b9c8-863fe6c99815.jsonl").read_bytes().splitlines()


def _line(session: str, n: int) -> bytes:
    record = json.loads(LINES[n % len(LINES)])
    record["sessionId"] = session
    record["uuid"] = f"{session[:8]}-0000-4000-8000-{n:012d}"
    return json.dumps(record).encode() + b"\n"


@pytest.mark.slow
def test_sixteen_hooks_two_imports_and_backups_for_a_minute(project: Path,
                                                             tmp_path: Path) -> None:
    folder = tmp_path / "transcripts"
    folder.mkdir()
    env = {**os.environ, "CLAUDE_PROJECT_DIR": str(project)}
    stop_at = time.monotonic() + SECONDS
    walls: list[float] = []
    problems: list[str] = []
    stops = [0] * HOOKS_AT_ONCE
    lock = threading.Lock()

    def session_loop(index: int) -> None:
        session = f"{index:08d}-1111-4222-8333-444444444444"
        transcript = folder / f"{session}.jsonl"
        n = 0
        while time.monotonic() < stop_at:
            with open(transcript, "ab") as out:
                out.write(b"".join(_line(session, n + k) for k in range(3)))
            n += 3
            payload = {"session_id": session, "transcript_path": str(transcript),
                       "cwd": str(project), "hook_event_name": "Stop",
                       "last_assistant_message": f"reply {n}"}
            started = time.monotonic()
            done = subprocess.run([sys.executable, str(HOOKS / "run.py"), "Stop"],
                                  input=json.dumps(payload).encode(), capture_output=True,
                                  env=env, cwd=project, timeout=60, check=False)
            with lock:
                walls.append(time.monotonic() - started)
                stops[index] += 1
                if done.returncode != 0 or done.stdout.strip():
                    problems.append(f"hook {index}: exit {done.returncode} {done.stdout!r}")

    def command_loop(*args: str) -> None:
        while time.monotonic() < stop_at:
            paths = [str(p) for p in folder.iterdir()]
            done = run_cli(*args, *(paths if args == ("import",) else []),
                           "--project", str(project), env=env)
            if done.returncode != 0:
                with lock:
                    problems.append(f"{args}: exit {done.returncode} {done.stderr[-300:]!r}")
            if args == ("backup",):
                time.sleep(5)

    threads = [threading.Thread(target=session_loop, args=(i,)) for i in range(HOOKS_AT_ONCE)]
    threads += [threading.Thread(target=command_loop, args=("import",)) for _ in range(2)]
    threads.append(threading.Thread(target=command_loop, args=("backup",)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(f"\n{sum(stops)} Stop hooks; slowest {max(walls):.2f} s, median"
          f" {sorted(walls)[len(walls) // 2]:.2f} s")
    assert not problems, problems[:5]
    log = Path(locations.log_dir()) / "hooks.log"
    errors = [line for line in log.read_text().splitlines() if " ERROR " in line] \
        if log.exists() else []
    assert not errors, errors[:5]
    assert run_cli("import", *map(str, folder.iterdir()), "--project", str(project),
                   env=env).returncode == 0  # catches up what busy Stops left, drains spools
    fresh = tmp_path / "fresh project"  # the same transcripts imported once, quietly
    fresh.mkdir()
    assert run_cli("import", *map(str, folder.iterdir()), "--project", str(fresh),
                   env=env).returncode == 0
    with sqlite3.connect(locations.archive_path(fresh)) as conn:
        clean = dict(conn.execute("SELECT s.uuid, count(*) FROM entries e JOIN sessions s"
                                  " ON s.id = e.session_id GROUP BY s.uuid").fetchall())
    archive = locations.archive_path(project)
    with sqlite3.connect(archive) as conn:
        for transcript in folder.iterdir():
            session = transcript.stem
            data = transcript.read_bytes()
            archived = run_cli("export", session, "--project", str(project), env=env).stdout
            assert archived == data, session
            entries = conn.execute("SELECT count(*) FROM entries e JOIN sessions s ON"
                                   " s.id = e.session_id WHERE s.uuid = ?", (session,)
                                   ).fetchone()[0]
            assert entries == clean[session], session  # none lost, none twice
            replies = conn.execute("SELECT count(*) FROM chat_turns WHERE session_uuid = ?",
                                   (session,)).fetchone()[0]
            assert replies == stops[int(session[:8])], session
    assert run_cli("verify", "--project", str(project), env=env).returncode == 0
