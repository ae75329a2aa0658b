"""``watch`` archives transcripts as Claude Code writes them: each append within 2 s, through
a truncation, a rewrite, a rotation and a deletion of the file, a line per ingest on a
terminal, and a clean exit 0 on SIGINT. A real ``session-core watch`` process, real files
appended by this (another) process, a real signal."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from session_core.transcript import layout

from .hookkit import SESSION, World, make_world

INGEST_DEADLINE_S = 2.0
"""The acceptance's functional deadline: an append is archived within this."""
START_DEADLINE_S = 60.0
"""Start-up and the first pass over the folder: a slow, shared machine may take a while."""
OTHER = "0f0e0d0c-0b0a-4909-8807-060504030201"


@pytest.fixture
def world(project: Path, isolated_env: Path) -> World:
    return make_world(project, os.environ)


def line(session: str, n: int, cwd: str) -> bytes:
    return json.dumps({
        "type": "user", "sessionId": session, "uuid": f"{n:08x}-1111-4222-8333-444444444444",
        "timestamp": "2026-11-23T10:00:00.000Z", "cwd": cwd,
        "message": {"role": "user", "content": f"appended prompt number {n}"}}).encode() + b"\n"


def append(path: Path, data: bytes) -> None:
    with open(path, "ab") as handle:
        handle.write(data)


def wait_for(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def archived(db: Path, path: Path) -> tuple[int, int] | None:
    """(archived size, generation) of ``path``, as another reader sees the archive now."""
    if not db.exists():
        return None
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        try:
            row = conn.execute("SELECT size, generation FROM files WHERE path = ?",
                               (str(path),)).fetchone()
        except sqlite3.OperationalError:  # the archive is being created
            return None
    return None if row is None else (int(row[0]), int(row[1]))


def indexed(db: Path, text: str) -> bool:
    """A message with ``text`` is searchable: it was indexed, not only stored."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        found = conn.execute("SELECT count(*) FROM entries_fts WHERE entries_fts MATCH ?",
                             (f'"{text}"',)).fetchone()[0]
    return bool(found)


class Watch:
    """``session-core watch`` with its stdout on a pseudo-terminal (it prints its ingest
    lines only on one), stderr to a file."""

    def __init__(self, world: World, *args: str) -> None:
        self.master, slave = pty.openpty()
        self.err_path = world.project.parent / "watch.err"
        self.err = open(self.err_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "session_core", "watch", *args, "--project",
             str(world.project)], stdin=subprocess.DEVNULL, stdout=slave, stderr=self.err,
            env=world.env)
        os.close(slave)
        self.out = b""

    def stderr(self) -> str:
        return self.err_path.read_text(errors="replace")

    def read_out(self) -> str:
        while select.select([self.master], [], [], 0)[0]:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # the other end closed
                break
            if not chunk:
                break
            self.out += chunk
        return self.out.decode(errors="replace")

    def interrupt(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.read_out()
        os.close(self.master)
        self.err.close()


@pytest.fixture
def watching(world: World) -> Iterator[Callable[..., Watch]]:
    started: list[Watch] = []

    def start(*args: str) -> Watch:
        started.append(Watch(world, *args))
        return started[-1]

    yield start
    for watch in started:
        watch.stop()


def test_watch_follows_appends_truncation_rewrite_rotation_and_deletion_then_stops_on_sigint(
        world: World, watching: Callable[..., Watch]) -> None:
    db, transcript, cwd = world.archive_db, world.transcript, str(world.project)
    watch = watching()
    size = transcript.stat().st_size
    assert wait_for(lambda: archived(db, transcript) == (size, 0), START_DEADLINE_S), \
        watch.stderr()  # what was there before it started is archived first

    for n in range(1, 4):  # each append, within the deadline, indexed
        append(transcript, line(SESSION, n, cwd))
        size = transcript.stat().st_size
        assert wait_for(lambda size=size: archived(db, transcript) == (size, 0),  # type: ignore[misc]
                        INGEST_DEADLINE_S), (n, archived(db, transcript), watch.stderr())
        assert indexed(db, f"appended prompt number {n}")
    assert wait_for(lambda: "+1 message(s)" in watch.read_out(), INGEST_DEADLINE_S), watch.out

    transcript.write_bytes(b"")  # truncated...
    assert wait_for(lambda: archived(db, transcript) == (0, 1), INGEST_DEADLINE_S), \
        (archived(db, transcript), watch.stderr())
    transcript.write_bytes(line(SESSION, 10, cwd) + line(SESSION, 11, cwd))  # ...rewritten
    size = transcript.stat().st_size
    assert wait_for(lambda: archived(db, transcript) == (size, 1), INGEST_DEADLINE_S), \
        (archived(db, transcript), watch.stderr())
    assert indexed(db, "appended prompt number 11")
    assert wait_for(lambda: "new generation" in watch.read_out(), INGEST_DEADLINE_S), watch.out

    rotated = transcript.with_name(transcript.name + ".1")  # rotated away, a new file in place
    transcript.rename(rotated)
    transcript.write_bytes(line(SESSION, 20, cwd))
    size = transcript.stat().st_size
    assert wait_for(lambda: archived(db, transcript) == (size, 2), INGEST_DEADLINE_S), \
        (archived(db, transcript), watch.stderr())
    assert archived(db, rotated) is None  # not a name Claude Code gives a transcript

    transcript.unlink()  # deleted: the archive keeps it, the watch goes on
    assert wait_for(lambda: "deleted" in watch.read_out(), INGEST_DEADLINE_S), watch.out
    assert archived(db, transcript) == (size, 2)
    subagent = transcript.parent / SESSION / "subagents" / "agent-a1b2c3d.jsonl"
    subagent.parent.mkdir(parents=True)  # a folder that did not exist when the watch began
    subagent.write_bytes(line(SESSION, 30, cwd))
    assert wait_for(lambda: archived(db, subagent) is not None, INGEST_DEADLINE_S), \
        watch.stderr()
    assert indexed(db, "appended prompt number 30")

    assert watch.interrupt() == 0, watch.stderr()
    assert "Stopped watching." in watch.stderr()
    assert "Traceback" not in watch.stderr()
    check = subprocess.run([sys.executable, "-m", "session_core", "verify", "--project", cwd],
                           env=world.env, capture_output=True, text=True, timeout=300,
                           check=False)
    assert check.returncode == 0, check.stdout + check.stderr


def test_watch_all_archives_each_project_into_its_own_archive(
        world: World, watching: Callable[..., Watch], tmp_path: Path) -> None:
    other_project = tmp_path / "other project"
    other_project.mkdir()
    folder = Path(layout.project_folder(other_project, Path(world.env["CLAUDE_CONFIG_DIR"])
                                        / "projects"))
    folder.mkdir(parents=True)
    theirs = folder / f"{OTHER}.jsonl"
    theirs.write_bytes(line(OTHER, 1, str(other_project)))
    their_db = other_project / ".claude" / "session-core" / "archive.db"

    watch = watching("--all")
    assert wait_for(lambda: archived(their_db, theirs) is not None, START_DEADLINE_S), \
        watch.stderr()
    append(theirs, line(OTHER, 2, str(other_project)))
    size = theirs.stat().st_size
    assert wait_for(lambda: archived(their_db, theirs) == (size, 0), INGEST_DEADLINE_S), \
        watch.stderr()
    assert archived(world.archive_db, theirs) is None  # not into this project's archive
    assert wait_for(lambda: archived(world.archive_db, world.transcript) is not None,
                    INGEST_DEADLINE_S), watch.stderr()  # this project's own, into its own
    assert watch.interrupt() == 0, watch.stderr()


def test_sigterm_stops_it_cleanly_too(world: World,
                                                   watching: Callable[..., Watch]) -> None:
    watch = watching()
    assert wait_for(lambda: "Watching" in watch.stderr(), START_DEADLINE_S), watch.stderr()
    watch.proc.send_signal(signal.SIGTERM)
    assert watch.proc.wait(timeout=30) == 0, watch.stderr()
    assert "Stopped watching." in watch.stderr()


def test_a_deleted_project_folder_is_watched_for_until_it_comes_back(
        world: World, watching: Callable[..., Watch]) -> None:
    import shutil

    db, transcript, cwd = world.archive_db, world.transcript, str(world.project)
    watch = watching()
    size = transcript.stat().st_size
    assert wait_for(lambda: archived(db, transcript) == (size, 0), START_DEADLINE_S), \
        watch.stderr()
    shutil.rmtree(transcript.parent)  # 'claude project purge'
    assert wait_for(lambda: "is gone" in watch.stderr(), 10.0), watch.stderr()
    back = transcript.with_name(f"{OTHER}.jsonl")
    back.parent.mkdir()
    back.write_bytes(line(OTHER, 1, cwd))
    assert wait_for(lambda: archived(db, back) is not None, 10.0), watch.stderr()
    assert watch.interrupt() == 0, watch.stderr()


def test_a_stop_asked_for_between_two_files_is_heeded_before_the_next(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from session_core.cli.watch import Watcher

    archive = SimpleNamespace(project=str(tmp_path), settings=SimpleNamespace(
        claude_config_dir=str(tmp_path / "claude")))
    watcher = Watcher(archive, every_project=False)  # type: ignore[arg-type]
    for n in range(3):
        watcher.debounce.touch(str(tmp_path / f"{n}.jsonl"), time.monotonic() - 3600)
    ingested: list[str] = []

    def ingest(path: str) -> None:
        ingested.append(path)
        watcher.stop(signal.SIGTERM, None)  # Ctrl-C while this file was being ingested

    watcher._ingest = ingest  # type: ignore[method-assign]
    previous = signal.getsignal(signal.SIGINT)
    try:
        watcher.run()
    finally:
        signal.signal(signal.SIGINT, previous)
    assert len(ingested) == 1, ingested


def test_a_typo_in_project_creates_no_archive_and_says_so(world: World, tmp_path: Path) -> None:
    typo = tmp_path / "no such project"
    typo.mkdir()
    done = subprocess.run([sys.executable, "-m", "session_core", "watch", "--project",
                           str(typo)], env=world.env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=60, check=False)
    assert done.returncode == 3, done.stderr
    assert "Error: no archive at" in done.stderr and "Claude Code has no folder" in \
        done.stderr and "Try: check --project" in done.stderr, done.stderr
    assert not (typo / ".claude").exists()


def test_a_project_without_a_folder_yet_waits_for_its_own_alone(
        world: World, watching: Callable[..., Watch], tmp_path: Path) -> None:
    import shutil

    db, transcript, cwd = world.archive_db, world.transcript, str(world.project)
    assert subprocess.run([sys.executable, "-m", "session_core", "import", "--project", cwd],
                          env=world.env, capture_output=True, timeout=300).returncode == 0
    shutil.rmtree(transcript.parent)  # an archive, and no folder of Claude Code's for it
    other = Path(layout.project_folder(tmp_path / "other", transcript.parent.parent))
    watch = watching()
    assert wait_for(lambda: "waiting for" in watch.stderr(), START_DEADLINE_S), watch.stderr()
    other.mkdir()  # another project's folder: not watched into, not archived here
    theirs = other / f"{OTHER}.jsonl"
    theirs.write_bytes(line(OTHER, 1, str(tmp_path / "other")))
    back = transcript.with_name(f"{OTHER[:-4]}beef.jsonl")
    back.parent.mkdir()
    back.write_bytes(line(SESSION, 1, cwd))
    assert wait_for(lambda: archived(db, back) is not None, 10.0), watch.stderr()
    assert "is there now" in watch.stderr(), watch.stderr()
    assert archived(db, theirs) is None
    assert watch.interrupt() == 0, watch.stderr()
