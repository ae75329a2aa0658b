"""Git branch and commit read straight from ``.git`` (no process on every Stop or status-line
refresh), and the one ``git status`` of a session start: is the tree dirty now?

``os.path`` strings and a slotted class rather than pathlib and a dataclass: the status line
imports this module (bench/README.md, the import ledger).
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # the name, not typing's: the status line imports this module
if TYPE_CHECKING:
    import subprocess


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


_GIT_STATUS = ("--no-optional-locks", "status", "--porcelain=v2", "--branch", "--", ".",
               ":(exclude).claude/session-core")
"""--no-optional-locks: a status killed at the timeout must not leave index.lock behind, which
would make the user's next git command fail. Our own data folder is not the user's change.
``--branch`` adds the upstream and how far ahead of it the branch is, in the same process."""


class DirtyCheck:
    """``git status`` started now and read later: the handoff reads the archive meanwhile, so
    git's start-up and scan cost SessionStart little extra. ``subprocess`` is imported here,
    once per session start, not by the modules every hook loads.

    Stopping git kills it if it still runs and closes our end of the pipe before reaping it:
    a wrapper script or any child of git that keeps the pipe open cannot hold SessionStart
    past its timeout, and what git started to outlive it (an fsmonitor daemon) is left alone.
    POSIX; on Windows (untested) ``communicate``'s reader thread may still wait on the pipe."""

    def __init__(self, project: str | os.PathLike[str]) -> None:
        import subprocess

        self.branch: str | None = None
        self.upstream: str | None = None
        """None when the branch has no upstream (never pushed), or git did not answer."""
        self.ahead: int | None = None
        """Commits on the branch not on its upstream; None if unknown."""
        self._process: subprocess.Popen[bytes] | None
        try:
            self._process = subprocess.Popen(
                ["git", "-C", os.fspath(project), *_GIT_STATUS], stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        except OSError:  # no git on PATH
            self._process = None

    def result(self, timeout: float) -> bool | None:
        """Uncommitted changes (untracked files included); None if git cannot say in time.
        A git that is still running at the timeout is stopped. Also sets ``branch``,
        ``upstream`` and ``ahead`` from the same answer."""
        import subprocess

        process, self._process = self._process, None
        if process is None:
            return None
        try:
            out, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop(process)
            return None
        if process.returncode != 0:
            return None
        dirty = False
        for line in out.decode("utf-8", "replace").splitlines():
            if not line.startswith("# "):
                dirty = dirty or bool(line.strip())
            elif line.startswith("# branch.head "):
                head = line[len("# branch.head "):].strip()
                self.branch = None if head == "(detached)" else head
            elif line.startswith("# branch.upstream "):
                self.upstream = line[len("# branch.upstream "):].strip()
            elif line.startswith("# branch.ab +"):
                count = line[len("# branch.ab +"):].split(" ")[0]
                self.ahead = int(count) if count.isdigit() else None
        if self.upstream is None and self.branch is not None:
            self.ahead = None
        return dirty

    def cancel(self) -> None:
        """Not needed after all: stop and reap git now rather than leave it behind."""
        process, self._process = self._process, None
        if process is not None:
            _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Kill git if it still runs, then reap it without reading the pipe to its end."""
    if process.poll() is None:
        process.kill()
    if process.stdout is not None:
        process.stdout.close()
    process.wait()
