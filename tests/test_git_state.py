"""What the handoff and the status line say about git: HEAD read straight from ``.git`` (no
process), and the one ``git status`` of a session start, which must answer or give up in time."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from session_core.handoff.git import DirtyCheck, read_head

from .hookkit import running

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org",
       "-c", "init.defaultBranch=main"]


def git(folder: Path, *args: str) -> str:
    return subprocess.run([*GIT, "-C", str(folder), *args], capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    folder = tmp_path / "a repo"
    folder.mkdir()
    git(folder, "init", "-q")
    (folder / "README.md").write_text("hello\n")
    git(folder, "add", "README.md")
    git(folder, "commit", "-q", "-m", "first")
    return folder


def test_no_repository_has_no_head(tmp_path: Path) -> None:
    assert read_head(tmp_path) is None


def test_a_branch_and_its_commit_are_read_without_git(repo: Path) -> None:
    (repo / "sub").mkdir()  # from a folder inside the work tree, as a project may be
    head = read_head(repo / "sub")
    assert head is not None
    assert (head.branch, head.commit) == ("main", git(repo, "rev-parse", "HEAD"))


def test_a_detached_head_has_a_commit_and_no_branch(repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach")
    head = read_head(repo)
    assert head is not None and head.branch is None
    assert head.commit == git(repo, "rev-parse", "HEAD")


def test_packed_refs_are_found(repo: Path) -> None:
    git(repo, "pack-refs", "--all")
    assert not (repo / ".git" / "refs" / "heads" / "main").exists()
    head = read_head(repo)
    assert head is not None and head.commit == git(repo, "rev-parse", "HEAD")


def test_a_repository_without_commits_has_a_branch_and_no_commit(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    head = read_head(tmp_path)
    assert head is not None and (head.branch, head.commit) == ("main", None)


def test_a_worktree_reads_its_own_head_through_the_main_repository(repo: Path,
                                                                     tmp_path: Path) -> None:
    other = tmp_path / "work tree"
    git(repo, "worktree", "add", "-q", "-b", "feature", str(other))
    head = read_head(other)
    assert head is not None and head.branch == "feature"
    assert head.commit == git(other, "rev-parse", "HEAD")


def test_an_unreadable_head_is_no_head_not_an_error(repo: Path) -> None:
    (repo / ".git" / "HEAD").unlink()
    (repo / ".git" / "HEAD").mkdir()
    assert read_head(repo) is None


@pytest.mark.parametrize(("change", "dirty"), [
    ("nothing", False), ("edit a tracked file", True), ("add an untracked file", True),
    ("write the archive folder", False)])
def test_the_dirty_check_says_what_git_says(repo: Path, change: str, dirty: bool) -> None:
    if change == "edit a tracked file":
        (repo / "README.md").write_text("changed\n")
    elif change == "add an untracked file":
        (repo / "notes.txt").write_text("new\n")
    elif change == "write the archive folder":  # our own data is not the user's change
        (repo / ".claude" / "session-core").mkdir(parents=True)
        (repo / ".claude" / "session-core" / "archive.db").write_bytes(b"x")
    assert DirtyCheck(repo).result(timeout=10) is dirty


def test_the_same_git_status_says_whether_the_branch_is_pushed(repo: Path,
                                                               tmp_path: Path) -> None:
    never = DirtyCheck(repo)
    assert never.result(timeout=10) is False
    assert (never.branch, never.upstream, never.ahead) == ("main", None, None)
    remote = tmp_path / "remote.git"
    subprocess.run([*GIT, "init", "-q", "--bare", str(remote)], check=True)
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "-u", "origin", "main")
    for n in range(2):
        (repo / f"f{n}.txt").write_text("x\n")
        git(repo, "add", f"f{n}.txt")
        git(repo, "commit", "-q", "-m", f"change {n}")
    ahead = DirtyCheck(repo)
    assert ahead.result(timeout=10) is False
    assert (ahead.upstream, ahead.ahead) == ("origin/main", 2)


def test_outside_a_repository_the_dirty_check_cannot_say(tmp_path: Path) -> None:
    assert DirtyCheck(tmp_path).result(timeout=10) is None


def _fake_git(tmp_path: Path, body: str, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "git"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def test_a_git_that_hangs_is_given_up_on_in_time(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Even one that closed its output first: SessionStart must never wait past its budget."""
    _fake_git(tmp_path, "exec >&-\nsleep 30", monkeypatch)
    started = time.monotonic()
    assert DirtyCheck(tmp_path).result(timeout=0.3) is None
    assert time.monotonic() - started < 5


def test_a_git_that_fails_cannot_say(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_git(tmp_path, "echo ' M file'\nexit 128", monkeypatch)
    assert DirtyCheck(tmp_path).result(timeout=10) is None


def test_no_git_at_all_cannot_say(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    assert DirtyCheck(tmp_path).result(timeout=10) is None


def test_a_check_not_needed_is_stopped_and_reaped(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_git(tmp_path, "sleep 30", monkeypatch)
    check = DirtyCheck(tmp_path)
    process = check._process
    assert process is not None
    started = time.monotonic()
    check.cancel()
    assert process.returncode is not None and time.monotonic() - started < 5
    assert check.result(timeout=1) is None


@pytest.mark.parametrize("needed", [True, False])
def test_a_child_of_git_holding_its_output_never_holds_the_session_start(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, needed: bool) -> None:
    """A wrapper around git whose child keeps the pipe open: neither waiting for the answer
    nor cancelling waits for that child, and git itself is reaped."""
    pids = tmp_path / "pids"
    _fake_git(tmp_path, f"sleep 30 &\necho $! > '{pids}'\nwait", monkeypatch)
    check = DirtyCheck(tmp_path)
    process = check._process
    assert process is not None
    deadline = time.monotonic() + 5
    while not pids.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    try:
        if needed:
            assert check.result(timeout=0.3) is None
        else:
            check.cancel()
        assert time.monotonic() - started < 3
        assert process.returncode is not None
    finally:
        os.kill(int(pids.read_text()), signal.SIGKILL)


def test_what_a_finished_git_left_running_is_left_alone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A daemon git starts to outlive it (fsmonitor) survives a check that is not needed."""
    pids = tmp_path / "pids"
    _fake_git(tmp_path, f"sleep 30 >/dev/null 2>&1 &\necho $! > '{pids}'", monkeypatch)
    check = DirtyCheck(tmp_path)
    process = check._process
    assert process is not None
    os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT)  # exited, not reaped yet
    daemon = int(pids.read_text())
    try:
        check.cancel()
        time.sleep(0.3)  # a kill, had there been one, has landed by now
        assert running(daemon)
    finally:
        os.kill(daemon, signal.SIGKILL)

