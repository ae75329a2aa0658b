"""Keeping what the install puts in a project out of git: the archive folder (transcripts hold
code and secrets) and a ``settings.local.json`` we create (it holds this user's paths).

In a git work tree the lines go into ``.git/info/exclude``, which is never committed, so the
install leaves no change for the user to commit or clean up; git's own ``check-ignore`` says
whether a path is ignored already (a parent or global rule). Outside git, an existing
``.gitignore`` gets the archive line (the folder may become a repository later); no new one is
made. Every line added is recorded, and ``uninstall --purge`` removes exactly that line.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ...base.fs import write_atomic

ARCHIVE_FOLDER = ".claude/session-core/"
LOCAL_SETTINGS = ".claude/settings.local.json"


@dataclass(frozen=True)
class IgnoreLine:
    """A line to add to an ignore file, and why."""

    file: Path
    line: str
    what: str
    """What it keeps out of git, for the user ("the archive", ...)."""


def git(project: Path, *args: str) -> subprocess.CompletedProcess[str] | None:
    """A git command in the project, or None when git is not installed."""
    try:
        return subprocess.run(["git", "-C", str(project), *args], capture_output=True, text=True,
                              check=False)
    except OSError:
        return None


def git_root_and_exclude(project: Path) -> tuple[Path, Path] | None:
    """The work tree's top folder and its ``info/exclude``, or None outside a git work tree.

    Git's answer when git is installed (a worktree or submodule has a ``.git`` file naming its
    git dir, and ``info/exclude`` lives in the common dir); else read the ``.git`` entries."""
    top = git(project, "rev-parse", "--show-toplevel", "--git-path", "info/exclude")
    if top is not None:
        lines = top.stdout.splitlines()
        if top.returncode != 0 or len(lines) != 2:
            return None
        return Path(lines[0]), Path(os.path.abspath(project / lines[1]))
    for folder in (project, *project.parents):
        dot = folder / ".git"
        if dot.is_dir():
            return folder, dot / "info" / "exclude"
        if dot.is_file():
            text = dot.read_text("utf-8", "replace").strip()
            if not text.startswith("gitdir:"):
                return None
            gitdir = folder / text.removeprefix("gitdir:").strip()
            common = gitdir / "commondir"
            if common.is_file():
                gitdir = gitdir / common.read_text("utf-8", "replace").strip()
            return folder, Path(os.path.abspath(gitdir / "info" / "exclude"))
    return None


def exclude_pattern(top: Path, project: Path, inside_project: str) -> str:
    """``inside_project`` (a path below the project) anchored at the project's folder inside
    the work tree; unanchored when the project is the work tree's top."""
    try:
        inside = Path(os.path.realpath(project)).relative_to(os.path.realpath(top)).as_posix()
    except ValueError:
        inside = "."
    if inside == ".":
        return _escaped(inside_project)
    return "/" + _escaped(inside) + "/" + _escaped(inside_project)


def _escaped(path: str) -> str:
    """A path as an ignore pattern that matches it alone (its wildcards taken literally)."""
    return re.sub(r"([\\*?\[])", r"\\\1", path)


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text("utf-8", "replace").splitlines()
    except FileNotFoundError:
        return []


def _ignored(project: Path, inside_project: str, file: Path, pattern: str) -> bool:
    """Git's own answer when it can give one (parent and global rules count), else whether the
    file already holds a line that covers it."""
    done = git(project, "check-ignore", "-q", inside_project)
    if done is not None and done.returncode in (0, 1):
        return done.returncode == 0
    wanted = {pattern, pattern.rstrip("/"), "/" + pattern.lstrip("/")}
    if inside_project == ARCHIVE_FOLDER:
        wanted |= {f"{lead}{name}{trail}" for lead in ("", "/") for trail in ("", "/", "/**")
                   for name in (".claude", ".claude/session-core")}
    return any(line.strip() in wanted for line in _lines(file))


def needed(project: Path, created_local_settings: bool,
           archive: Path | None = None) -> list[IgnoreLine]:
    """The lines this project lacks: the archive folder's (``archive``, default
    ``.claude/session-core``; none when ``SESSION_CORE_DATA_DIR`` puts it out of the project),
    and the settings file's if the install creates ``settings.local.json``."""
    found = git_root_and_exclude(project)
    wanted = []
    inside_archive = _inside(project, archive) if archive is not None else ARCHIVE_FOLDER
    if inside_archive is not None:
        wanted.append((inside_archive, "the archive"))
    if created_local_settings:
        wanted.append((LOCAL_SETTINGS, "the file holds your own paths"))
    lines = []
    for inside, what in wanted:
        if found is not None:
            top, exclude = found
            pattern = exclude_pattern(top, project, inside)
            if not _ignored(project, inside, exclude, pattern):
                lines.append(IgnoreLine(exclude, pattern, what))
        elif inside == inside_archive and (project / ".gitignore").is_file():
            gitignore = project / ".gitignore"
            if not _ignored(project, inside, gitignore, _escaped(inside)):
                lines.append(IgnoreLine(gitignore, _escaped(inside), what))
    return lines


def _inside(project: Path, folder: Path) -> str | None:
    """``folder`` as an ignore pattern relative to ``project`` (``a/b/``), None if outside."""
    try:
        return folder.relative_to(project).as_posix().rstrip("/") + "/"
    except ValueError:
        return None


def add(entry: IgnoreLine) -> bool:
    """Append the line, keeping the file's line endings; the file is written whole. True if a
    line break had to be added before it (the file did not end with one): :func:`remove`
    takes that out again."""
    old = entry.file.read_bytes() if entry.file.exists() else b""
    eol = b"\r\n" if b"\r\n" in old else b"\n"
    joined = bool(old) and not old.endswith(b"\n")
    entry.file.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(entry.file, old + (eol if joined else b"") + entry.line.encode("utf-8") + eol,
                 mode=None)
    return joined


def remove(file: Path, line: str, joined: bool = False) -> bool:
    """Take out the last occurrence of ``line`` (the one we appended), and the line break
    :func:`add` put before it if it is still the file's last line; True if it was there."""
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        return False
    kept = data.splitlines(keepends=True)
    for index in range(len(kept) - 1, -1, -1):
        if kept[index].rstrip(b"\r\n") == line.encode("utf-8"):
            del kept[index]
            if joined and index == len(kept) and kept:
                kept[-1] = kept[-1].rstrip(b"\r\n")
            write_atomic(file, b"".join(kept), mode=None)
            return True
    return False
