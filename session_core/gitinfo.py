"""Git branch and commit read straight from ``.git`` (no subprocess on every Stop or status-line
refresh), and a dirty check for the handoff that may spawn ``git`` once, with a timeout.

``os.path`` strings and a slotted class rather than pathlib and a dataclass: the status line
imports this, and those two imports alone cost more than a third of a bare interpreter start.
"""

from __future__ import annotations

import os
import time

TYPE_CHECKING = False  # not typing's: the status line imports this module
if TYPE_CHECKING:
    from typing import Any


class Head:
    __slots__ = ("branch", "commit")

    def __init__(self, branch: str | None, commit: str | None) -> None:
        self.branch = branch
        """None when HEAD is detached."""
        self.commit = commit
        """None in a repository without commits yet."""


def _read(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.read().strip()


def _git_dir(project: str) -> str | None:
    folder = os.path.abspath(project)
    while True:
        dot_git = os.path.join(folder, ".git")
        if os.path.isdir(dot_git):
            return dot_git
        if os.path.isfile(dot_git):  # worktree or submodule: "gitdir: <path>"
            text = _read(dot_git)
            if text.startswith("gitdir:"):
                return os.path.normpath(os.path.join(folder, text[len("gitdir:"):].strip()))
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _common_dir(git_dir: str) -> str:
    """Worktrees keep refs in the main repository, named by ``commondir``."""
    marker = os.path.join(git_dir, "commondir")
    if os.path.isfile(marker):
        return os.path.normpath(os.path.join(git_dir, _read(marker)))
    return git_dir


def _resolve_ref(git_dir: str, ref: str) -> str | None:
    common = _common_dir(git_dir)
    for base in (git_dir, common):
        loose = os.path.join(base, ref)
        if os.path.isfile(loose):
            return _read(loose) or None
    packed = os.path.join(common, "packed-refs")
    if os.path.isfile(packed):
        for line in _read(packed).splitlines():
            parts = line.split(" ")
            if len(parts) == 2 and parts[1] == ref:
                return parts[0]
    return None


def read_head(project: str | os.PathLike[str]) -> Head | None:
    """The project's HEAD, or None outside a repository or on anything unreadable."""
    try:
        git_dir = _git_dir(os.fspath(project))
        if git_dir is None:
            return None
        head = _read(os.path.join(git_dir, "HEAD"))
        if head.startswith("ref:"):
            ref = head[4:].strip()
            return Head(ref.removeprefix("refs/heads/"), _resolve_ref(git_dir, ref))
        return Head(None, head or None)
    except (OSError, UnicodeDecodeError):
        return None


_GIT_STATUS = ("--no-optional-locks", "status", "--porcelain", "--", ".",
               ":(exclude).claude/session-core")
"""--no-optional-locks: a status killed at the timeout must not leave index.lock behind, which
would make the user's next git command fail. Our own data folder is not the user's change."""
_SIGKILL = 9  # POSIX; the ``signal`` module costs SessionStart ~1 ms to import for one number


class DirtyCheck:
    """``git status`` started now and read later: the handoff reads the archive meanwhile, so
    the git process's start-up and scan cost SessionStart nothing extra.

    Spawned with ``os.posix_spawnp`` and read through a pipe where the platform has it:
    ``subprocess`` pulls in signal, selectors, threading and locale, ~4 ms of a hook's start.
    """

    def __init__(self, project: str | os.PathLike[str]) -> None:
        argv = ["git", "-C", os.fspath(project), *_GIT_STATUS]
        self._pid: int | None = None
        self._pipe: int | None = None
        self._popen: Any = None
        try:
            if hasattr(os, "posix_spawnp"):
                self._pid, self._pipe = _spawn_reading_stdout(argv)
            else:
                import subprocess

                self._popen = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                               stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        except OSError:  # no git on PATH
            self._pid = self._pipe = self._popen = None

    def result(self, timeout: float) -> bool | None:
        """Uncommitted changes (untracked files included); None if git cannot say in time."""
        if self._popen is not None:
            return _popen_result(self._popen, timeout)
        if self._pid is None or self._pipe is None:
            return None
        deadline = time.monotonic() + timeout
        try:
            out = _read_until_eof(self._pipe, deadline)
        finally:
            os.close(self._pipe)
            self._pipe = None
        code = _exit_code(self._pid, deadline if out is not None else time.monotonic())
        if out is None or code != 0:
            return None
        return bool(out.strip())


def _exit_code(pid: int, deadline: float) -> int | None:
    """The child's exit code, waiting no later than ``deadline``; then it is killed and reaped
    (a git that closed its stdout but hangs must not hold SessionStart). None if unknown."""
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status)
            if time.monotonic() >= deadline:
                os.kill(pid, _SIGKILL)
                os.waitpid(pid, 0)
                return None
            time.sleep(0.0005)  # git closes stdout as it exits: rarely more than one round
    except ChildProcessError:  # already reaped elsewhere (SIGCHLD ignored by our parent)
        return None


def _spawn_reading_stdout(argv: list[str]) -> tuple[int, int]:
    """Start ``argv`` with stdin and stderr on /dev/null; returns its pid and its stdout's read
    end. Our ends are close-on-exec (PEP 446), so the child holds only the write end."""
    read_end, write_end = os.pipe()
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=[
            (os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, write_end, 1),
            (os.POSIX_SPAWN_DUP2, devnull, 2)])
    except BaseException:
        os.close(read_end)
        raise
    finally:
        os.close(write_end)
        os.close(devnull)
    return pid, read_end


def _read_until_eof(fd: int, deadline: float) -> bytes | None:
    """Everything until the writer closes, or None once the deadline passes."""
    import select  # a C module, cheap

    chunks: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return None
        chunk = os.read(fd, 65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _popen_result(process: Any, timeout: float) -> bool | None:
    import subprocess

    try:
        out, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return None
    return bool(out.strip()) if process.returncode == 0 else None
