"""Git branch and commit read straight from ``.git`` (no subprocess on every Stop), and a dirty
check for the handoff that may spawn ``git`` once, with a timeout."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Head:
    branch: str | None
    """None when HEAD is detached."""
    commit: str | None
    """None in a repository without commits yet."""


def _git_dir(project: Path) -> Path | None:
    for folder in (project, *project.parents):
        dot_git = folder / ".git"
        if dot_git.is_dir():
            return dot_git
        if dot_git.is_file():  # worktree or submodule: "gitdir: <path>"
            text = dot_git.read_text(encoding="utf-8", errors="replace").strip()
            if text.startswith("gitdir:"):
                target = Path(text[len("gitdir:"):].strip())
                return target if target.is_absolute() else (folder / target).resolve()
    return None


def _common_dir(git_dir: Path) -> Path:
    """Worktrees keep refs in the main repository, named by ``commondir``."""
    marker = git_dir / "commondir"
    if marker.is_file():
        common = Path(marker.read_text(encoding="utf-8").strip())
        return common if common.is_absolute() else (git_dir / common).resolve()
    return git_dir


def _resolve_ref(git_dir: Path, ref: str) -> str | None:
    for base in (git_dir, _common_dir(git_dir)):
        loose = base / ref
        if loose.is_file():
            return loose.read_text(encoding="utf-8").strip() or None
    packed = _common_dir(git_dir) / "packed-refs"
    if packed.is_file():
        for line in packed.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = line.split(" ")
            if len(parts) == 2 and parts[1] == ref:
                return parts[0]
    return None


def read_head(project: Path) -> Head | None:
    """The project's HEAD, or None outside a repository or on anything unreadable."""
    try:
        git_dir = _git_dir(project)
        if git_dir is None:
            return None
        head = (git_dir / "HEAD").read_text(encoding="utf-8").strip()
        if head.startswith("ref:"):
            ref = head[4:].strip()
            branch = ref.removeprefix("refs/heads/")
            return Head(branch, _resolve_ref(git_dir, ref))
        return Head(None, head or None)
    except (OSError, UnicodeDecodeError):
        return None


def is_dirty(project: Path, timeout: float = 1.0) -> bool | None:
    """Uncommitted changes (untracked files included) now; None if git cannot say in time."""
    import subprocess  # only here: the status line reads HEAD on every refresh

    try:
        result = subprocess.run(
            ["git", "-C", str(project), "status", "--porcelain", "--", ".",
             ":(exclude).claude/session-core"],
            capture_output=True, timeout=timeout, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    return bool(result.stdout.strip())
