#!/usr/bin/env python3
"""Install claude-session-core's hooks into a project: ``python3 install.py [PROJECT]``.

Standard library only: this runs on a fresh machine before any dependency exists. It builds a
dedicated virtual environment in the user data folder, copies the hook scripts beside it (the
installed suite must not depend on this checkout staying put), merges ``settings.template.json``
into the project's Claude Code settings without touching anything foreign, imports the
transcripts Claude Code still keeps, and proves the wiring by running the hooks exactly as
written. ``--uninstall`` takes out only what we put in. See ``--help``.
"""

from __future__ import annotations

import argparse
import copy
import difflib
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

APP = "session-core"
ARCHIVE_FOLDER = ".claude/session-core/"
BACKUP_SUFFIX = ".session-core-backup"
LOCAL_SETTINGS = ".claude/settings.local.json"
CHECK_TIMEOUT = 10.0
EXEC_FORM_SINCE = (2, 1, 139)
"""The first Claude Code that runs a hook's ``command`` with ``args`` (exec form, no shell), as
our settings do; an older one runs the interpreter without the script, on every event."""
EXIT_FAILURE, EXIT_USAGE, EXIT_BAD_SETTINGS = 1, 2, 8
PIP_ARGS_ENV = "SESSION_CORE_PIP_ARGS"
# what ``pip install`` needs to build the package (absent ones are skipped)
BUILD_SOURCES = ("pyproject.toml", "setup.cfg", "setup.py", "MANIFEST.in", "README.md", "LICENSE",
                 "LICENSE.txt", "LICENSE.md", "session_core")
WINDOWS = os.name == "nt"

JSON = Any  # a parsed JSON value; settings files are user data of any shape


class InstallError(Exception):
    """A failure the user can act on: printed as ``Error:`` / ``Try:``, never as a traceback."""

    def __init__(self, message: str, hint: str, code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.message, self.hint, self.code = message, hint, code


# --- where things live -------------------------------------------------------------------------


def user_data_dir() -> Path:
    """platformdirs' ``user_data_dir("session-core", appauthor=False)``, without platformdirs."""
    if WINDOWS:
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = str(Path.home() / "Library" / "Application Support")
    else:
        base = os.environ.get("XDG_DATA_HOME", "").strip() or str(Path.home() / ".local" / "share")
    return Path(os.path.abspath(os.path.expanduser(base))) / APP


@dataclass(frozen=True)
class Layout:
    """The checkout we install from and the user-level folder we install into."""

    repo: Path
    data: Path

    @property
    def venv(self) -> Path:
        return self.data / "venv"

    @property
    def bin(self) -> Path:
        return self.venv / ("Scripts" if WINDOWS else "bin")

    @property
    def python(self) -> Path:
        return self.bin / ("python.exe" if WINDOWS else "python")

    @property
    def cli(self) -> Path:
        return self.bin / (f"{APP}.exe" if WINDOWS else APP)

    @property
    def hooks(self) -> Path:
        return self.data / "hooks"

    @property
    def stamp(self) -> Path:
        return self.venv / "session-core.stamp"  # inside the venv: a deleted venv has no stamp

    @property
    def state(self) -> Path:
        return self.data / "install-state.json"

    def status_command(self) -> str:
        """statusLine has no exec form: one shell string, each path quoted."""
        script = self.hooks / "status_line.py"
        return f"{shlex.quote(self.python.as_posix())} {shlex.quote(script.as_posix())}"


@dataclass(frozen=True)
class Target:
    """The project and which of its settings files we edit."""

    project: Path
    shared: bool

    @property
    def settings(self) -> Path:
        name = "settings.json" if self.shared else "settings.local.json"
        return self.project / ".claude" / name

    @property
    def backup(self) -> Path:
        return self.settings.with_name(self.settings.name + BACKUP_SUFFIX)

    @property
    def archive(self) -> Path:
        return self.project / ".claude" / APP


# --- small file helpers ------------------------------------------------------------------------


def read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def write_atomic(path: Path, data: bytes) -> None:
    """Write through a temporary file and rename: a crash never leaves half a settings file.

    A symlink (settings kept in a dotfiles repository) stays a symlink: the rename replaces the
    file it points to, with the temporary file beside that file (same file system)."""
    path = Path(os.path.realpath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temp.write_bytes(data)
        if path.exists():
            shutil.copymode(path, temp)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def render(value: JSON) -> bytes:
    """Claude Code's own style: indent 2, UTF-8 as is, trailing newline."""
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def parse_settings(data: bytes | None, path: Path) -> dict[str, JSON]:
    """A settings file's object; a missing file is ``{}``, anything else non-object is refused."""
    if data is None:
        return {}
    try:
        value = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InstallError(f"{path} is not valid JSON ({exc})",
                           "fix the file (Claude Code would reject it too), then run again",
                           EXIT_BAD_SETTINGS) from exc
    if not isinstance(value, dict):
        raise InstallError(f"{path} does not hold a JSON object", "fix the file, then run again",
                           EXIT_BAD_SETTINGS)
    return value


def unified_diff(path: Path, old: bytes | None, new: bytes | None) -> str:
    before = (old or b"").decode("utf-8", "replace").splitlines(keepends=True)
    after = (new or b"").decode("utf-8", "replace").splitlines(keepends=True)
    lines = difflib.unified_diff(before, after, f"{path} (now)" if old is not None else "/dev/null",
                                 f"{path} (after)" if new is not None else "/dev/null")
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """A child process with text output captured; a missing program is an InstallError."""
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)
    except FileNotFoundError as exc:
        raise InstallError(f"cannot run {argv[0]}: {exc.strerror}",
                           "check the installation of that program") from exc


def tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


# --- the virtual environment and the hook scripts ----------------------------------------------


def source_stamp(repo: Path) -> str:
    """Hash of everything that ends up installed: a second run reinstalls only after a change."""
    files = [repo / "pyproject.toml", *sorted((repo / "session_core").rglob("*.py")),
             *sorted((repo / "hooks").glob("*.py"))]
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(repo).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def venv_current(layout: Layout, stamp: str) -> bool:
    """The stamp matches and the venv's Python still imports the package (its base may be gone)."""
    if read_bytes(layout.stamp) != stamp.encode() or not layout.cli.exists():
        return False
    probe = run([str(layout.python), "-c", "import session_core"])
    return probe.returncode == 0


def create_venv(layout: Layout) -> None:
    """A fresh venv; ``--clear`` when a previous one is there but no longer runs."""
    clear = ["--clear"] if layout.venv.exists() else []
    made = run([sys.executable, "-m", "venv", *clear, str(layout.venv)])
    if made.returncode != 0:
        raise InstallError(f"could not create a virtual environment at {layout.venv}:\n"
                           f"{tail(made.stderr or made.stdout)}",
                           "install Python's venv module (Debian/Ubuntu: apt install python3-venv)")


def copy_sources(repo: Path, into: Path) -> None:
    """What the build needs (the ``hooks/`` scripts are not packaged; sync_hooks copies them)."""
    for name in BUILD_SOURCES:
        source = repo / name
        if source.is_dir():
            shutil.copytree(source, into / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.py[co]"))
        elif source.is_file():
            shutil.copy2(source, into / name)


def pip_install(layout: Layout) -> None:
    """``pip install`` of a copy of the sources, not editable, so the checkout may move or go
    away afterwards. A copy, because pip builds a local folder in place: setuptools would leave
    ``build/`` and ``*.egg-info`` in the checkout and reinstall modules since deleted from it
    out of ``build/lib``."""
    extra = shlex.split(os.environ.get(PIP_ARGS_ENV, ""))
    with tempfile.TemporaryDirectory(prefix=f"{APP}-build-") as temp:
        source = Path(temp) / "src"
        source.mkdir()
        copy_sources(layout.repo, source)
        argv = [str(layout.python), "-m", "pip", "install", "--disable-pip-version-check", "-q",
                *extra, str(source)]
        done = run(argv)
    if done.returncode != 0:
        raise InstallError(f"pip could not install {layout.repo}:\n{tail(done.stderr)}",
                           f"check network access or pip's index settings ({PIP_ARGS_ENV} adds"
                           " pip arguments), then run again")


def ensure_venv(layout: Layout, dry: bool) -> str:
    stamp = source_stamp(layout.repo)
    if venv_current(layout, stamp):
        return f"venv: up to date ({layout.venv})"
    if dry:
        return f"venv: would create {layout.venv} and pip install {layout.repo}"
    print(f"venv: installing claude-session-core into {layout.venv} (takes a minute) ...",
          flush=True)
    started = time.monotonic()
    if not (layout.python.exists() and run([str(layout.python), "-c", "pass"]).returncode == 0):
        create_venv(layout)
    layout.stamp.unlink(missing_ok=True)
    pip_install(layout)
    layout.stamp.write_text(stamp)
    return f"venv: installed in {time.monotonic() - started:.0f} s"


def sync_hooks(layout: Layout, dry: bool) -> str:
    """Copy ``hooks/*.py`` into the data folder; only files whose bytes differ are written."""
    changed = [src for src in sorted((layout.repo / "hooks").glob("*.py"))
               if read_bytes(layout.hooks / src.name) != src.read_bytes()]
    if not changed:
        return f"hooks: up to date ({layout.hooks})"
    names = ", ".join(src.name for src in changed)
    if dry:
        return f"hooks: would copy {names} to {layout.hooks}"
    for src in changed:
        write_atomic(layout.hooks / src.name, src.read_bytes())
    return f"hooks: copied {names} to {layout.hooks}"


# --- recognising our entries -------------------------------------------------------------------


def mentions(text: str, prefixes: tuple[str, ...]) -> bool:
    """True if a command string (or one of its shell words) is a path into our hooks folder."""
    if text.startswith(prefixes):
        return True
    try:
        words = shlex.split(text)
    except ValueError:
        return any(prefix in text for prefix in prefixes)
    return any(word.startswith(prefixes) for word in words)


def handler_is_ours(handler: JSON, prefixes: tuple[str, ...]) -> bool:
    """Ours = its command or an argument points into ``<data>/hooks/`` (no marker keys: Claude
    Code validates settings)."""
    if not isinstance(handler, dict):
        return False
    texts = [handler.get("command"), *(handler.get("args") or [])]
    return any(isinstance(text, str) and mentions(text, prefixes) for text in texts)


def group_is_ours(group: JSON, prefixes: tuple[str, ...]) -> bool:
    handlers = group.get("hooks") if isinstance(group, dict) else None
    return bool(handlers) and isinstance(handlers, list) and all(
        handler_is_ours(handler, prefixes) for handler in handlers)


def without_our_handlers(group: JSON, prefixes: tuple[str, ...]) -> JSON:
    """A foreign group that someone mixed one of our handlers into keeps its own handlers."""
    handlers = group.get("hooks") if isinstance(group, dict) else None
    if not isinstance(handlers, list) or not any(handler_is_ours(h, prefixes) for h in handlers):
        return group
    return {**group, "hooks": [h for h in handlers if not handler_is_ours(h, prefixes)]}


def replace_ours(groups: list[JSON], ours: list[JSON], prefixes: tuple[str, ...]) -> list[JSON]:
    """Our groups go where our old ones were (or at the end); every foreign group stays put."""
    result: list[JSON] = []
    placed = False
    for group in groups:
        if group_is_ours(group, prefixes):
            if not placed:
                result.extend(copy.deepcopy(ours))
                placed = True
            continue
        result.append(without_our_handlers(group, prefixes))
    if not placed:
        result.extend(copy.deepcopy(ours))
    return result


def status_is_ours(value: JSON, prefixes: tuple[str, ...]) -> bool:
    command = value.get("command") if isinstance(value, dict) else None
    return isinstance(command, str) and mentions(command, prefixes)


def holds_ours(settings: dict[str, JSON], prefixes: tuple[str, ...]) -> bool:
    """Whether any entry of ours is in the file (then this is a re-install, not a first one)."""
    if status_is_ours(settings.get("statusLine"), prefixes):
        return True
    hooks = settings.get("hooks")
    return isinstance(hooks, dict) and any(
        isinstance(groups, list) and any(
            isinstance(group, dict) and isinstance(group.get("hooks"), list)
            and any(handler_is_ours(h, prefixes) for h in group["hooks"]) for group in groups)
        for groups in hooks.values())


def our_prefixes(layout: Layout) -> tuple[str, ...]:
    base = str(layout.hooks)
    return tuple(dict.fromkeys((base + "/", base + os.sep, layout.hooks.as_posix() + "/")))


# --- the template ------------------------------------------------------------------------------


def substitute(value: JSON, names: dict[str, str]) -> JSON:
    if isinstance(value, str):
        for name, text in names.items():
            value = value.replace("${" + name + "}", text)
        return value
    if isinstance(value, list):
        return [substitute(item, names) for item in value]
    if isinstance(value, dict):
        return {key: substitute(item, names) for key, item in value.items()}
    return value


def load_template(layout: Layout) -> dict[str, JSON]:
    """settings.template.json with our absolute paths filled in."""
    path = layout.repo / "settings.template.json"
    template = parse_settings(read_bytes(path), path)
    names = {"SESSION_CORE_PYTHON": str(layout.python), "SESSION_CORE_HOOKS": str(layout.hooks),
             "SESSION_CORE_STATUS_COMMAND": layout.status_command()}
    filled: dict[str, JSON] = substitute(template, names)
    if "${SESSION_CORE_" in json.dumps(filled) or not isinstance(filled.get("hooks"), dict):
        raise InstallError(f"{path} has an unknown ${{SESSION_CORE_...}} name or no hooks",
                           "restore settings.template.json from the repository")
    return filled


# --- what we changed, remembered under <data> --------------------------------------------------


def load_state(layout: Layout) -> dict[str, JSON]:
    """Per settings file: did it exist, which containers we created, the statusLine we replaced."""
    data = read_bytes(layout.state)
    try:
        state = json.loads(data) if data else {}
    except ValueError:
        print(f"warning: {layout.state} is not valid JSON; starting a new one", file=sys.stderr)
        state = {}
    if not isinstance(state, dict) or not isinstance(state.get("settings"), dict):
        state = {"settings": {}}
    return state


def save_state(layout: Layout, state: dict[str, JSON]) -> None:
    data = render(state)
    if read_bytes(layout.state) != data:
        write_atomic(layout.state, data)


def guessed_record(settings: dict[str, JSON], backup: bytes | None) -> dict[str, JSON]:
    """No record (state lost, project moved): the backup tells what existed before; with no
    backup the file did not exist, because every install backs up an existing file."""
    hooks = settings.get("hooks")
    events = list(hooks) if isinstance(hooks, dict) else []
    if backup is None:
        return {"existed": False, "created": ["hooks", *(f"hooks/{e}" for e in events)]}
    before = parse_quietly(backup)
    before_hooks = before.get("hooks") if isinstance(before, dict) else None
    created = [] if isinstance(before, dict) and "hooks" in before else ["hooks"]
    known = before_hooks if isinstance(before_hooks, dict) else {}
    return {"existed": True, "created": created + [f"hooks/{e}" for e in events if e not in known]}


def parse_quietly(data: bytes) -> JSON:
    try:
        return json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return None


def prune(settings: dict[str, JSON], created: list[str]) -> None:
    """Drop the containers we created once they are empty again; foreign empty ones stay."""
    hooks = settings.get("hooks")
    if not isinstance(hooks, dict):
        return
    for event in [e for e, groups in hooks.items() if groups == [] and f"hooks/{e}" in created]:
        del hooks[event]
    if not hooks and "hooks" in created:
        del settings["hooks"]


# --- merging in, taking out --------------------------------------------------------------------


@dataclass
class SettingsPlan:
    """The settings file's bytes before and after, and the bookkeeping that goes with them."""

    target: Target
    old: bytes | None
    new: bytes | None  # None: the file goes away
    record: dict[str, JSON] | None  # None: forget this file in the state
    backup: bytes | None = None  # written to the backup path before the change
    drop_backup: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def changes(self) -> bool:
        return self.new != self.old


def merge_hooks(settings: dict[str, JSON], desired: dict[str, JSON], prefixes: tuple[str, ...],
                path: Path) -> list[str]:
    """Put our group into each event's list; returns the containers that had to be created."""
    created: list[str] = []
    if "hooks" not in settings:
        settings["hooks"] = {}
        created.append("hooks")
    hooks = settings["hooks"]
    if not isinstance(hooks, dict):
        raise InstallError(f'"hooks" in {path} is not an object', "fix the file, then run again",
                           EXIT_BAD_SETTINGS)
    for event in desired:
        if event not in hooks:
            hooks[event] = []
            created.append(f"hooks/{event}")
    for event, groups in hooks.items():
        if isinstance(groups, list):
            hooks[event] = replace_ours(groups, desired.get(event, []), prefixes)
        elif event in desired:
            raise InstallError(f'"hooks.{event}" in {path} is not a list',
                               "fix the file, then run again", EXIT_BAD_SETTINGS)
    return created


def merge_status(settings: dict[str, JSON], ours: JSON, record: dict[str, JSON], replace: bool,
                 prefixes: tuple[str, ...]) -> list[str]:
    """Our statusLine goes in unless a foreign one is there; ``--statusline`` replaces it."""
    if ours is None:
        return []
    current = settings.get("statusLine")
    if "statusLine" not in settings or status_is_ours(current, prefixes):
        settings["statusLine"] = ours
        return []
    if replace:
        record["status_line"] = current
        settings["statusLine"] = ours
        return ["note: replaced your statusLine; --uninstall puts it back"]
    return ["note: kept your statusLine; pass --statusline to use session-core's instead"
            " (--uninstall puts yours back)"]


def plan_install(layout: Layout, target: Target, template: dict[str, JSON], replace_status: bool,
                 state: dict[str, JSON]) -> SettingsPlan:
    old = read_bytes(target.settings)
    settings = parse_settings(old, target.settings)
    prefixes = our_prefixes(layout)
    fresh = not holds_ours(settings, prefixes)
    known = state["settings"].get(str(target.settings))
    if fresh:
        record: dict[str, JSON] = {"existed": old is not None, "created": []}
    else:
        record = copy.deepcopy(known or guessed_record(settings, read_bytes(target.backup)))
    merged = copy.deepcopy(settings)
    created = merge_hooks(merged, template["hooks"], prefixes, target.settings)
    record["created"] = list(dict.fromkeys([*record.get("created", []), *created]))
    notes = merge_status(merged, template.get("statusLine"), record, replace_status, prefixes)
    prune(merged, record["created"])
    new = old if merged == settings else render(merged)
    backup = old if fresh and new != old else None
    return SettingsPlan(target, old, new, record, backup=backup, notes=notes)


def strip_ours(settings: dict[str, JSON], record: dict[str, JSON], prefixes: tuple[str, ...],
               backup: bytes | None = None) -> None:
    """Take out our groups, our handlers and our statusLine, putting back one we replaced: the
    record's, else the backup's (the record is gone after a move or a lost install-state.json)."""
    hooks = settings.get("hooks")
    if isinstance(hooks, dict):
        for event, groups in hooks.items():
            if isinstance(groups, list):
                hooks[event] = replace_ours(groups, [], prefixes)
    if status_is_ours(settings.get("statusLine"), prefixes):
        before = parse_quietly(backup) if backup is not None else None
        if "status_line" in record:
            settings["statusLine"] = record["status_line"]
        elif (isinstance(before, dict) and "statusLine" in before
              and not status_is_ours(before["statusLine"], prefixes)):
            settings["statusLine"] = before["statusLine"]
        else:
            del settings["statusLine"]
    prune(settings, record.get("created", []))


def plan_uninstall(layout: Layout, target: Target, state: dict[str, JSON]) -> SettingsPlan:
    old = read_bytes(target.settings)
    settings = parse_settings(old, target.settings)
    backup = read_bytes(target.backup)
    record = state["settings"].get(str(target.settings)) or guessed_record(settings, backup)
    stripped = copy.deepcopy(settings)
    strip_ours(stripped, record, our_prefixes(layout), backup)
    if stripped == settings:
        return SettingsPlan(target, old, old, None)
    if record.get("existed") and backup is not None and parse_quietly(backup) == stripped:
        return SettingsPlan(target, old, backup, None, drop_backup=True)
    if not record.get("existed") and not stripped:
        return SettingsPlan(target, old, None, None)
    return SettingsPlan(target, old, render(stripped), None)


def apply_settings(plan: SettingsPlan, layout: Layout, state: dict[str, JSON]) -> None:
    """Backup first, then the settings file, then the bookkeeping."""
    target = plan.target
    if plan.backup is not None:
        write_atomic(target.backup, plan.backup)
        shutil.copymode(target.settings, target.backup)
    if plan.changes:
        if plan.new is None:  # a file we created; through a symlink, the file we created
            Path(os.path.realpath(target.settings)).unlink()
        else:
            write_atomic(target.settings, plan.new)
    if plan.drop_backup:
        target.backup.unlink(missing_ok=True)
    records = state["settings"]
    if plan.record is None:
        records.pop(str(target.settings), None)
    else:
        records[str(target.settings)] = plan.record
    if plan.record is not None or layout.state.exists():
        save_state(layout, state)


def describe_settings(plan: SettingsPlan, uninstall: bool) -> str:
    path = plan.target.settings
    if not plan.changes:
        return f"settings: {'nothing of ours in' if uninstall else 'up to date:'} {path}"
    if not uninstall:
        if plan.old is None:
            return f"settings: created {path}"
        if plan.backup is None:
            return f"settings: updated our entries in {path}"
        return f"settings: merged into {path} (backup: {plan.target.backup.name})"
    if plan.new is None:
        return f"settings: removed {path} (it did not exist before the install)"
    if plan.drop_backup:
        return f"settings: restored {path} byte for byte from its backup"
    kept = f" (the pre-install copy stays at {plan.target.backup})" if plan.target.backup.exists() \
        else ""
    return f"settings: took our entries out of {path}{kept}"


# --- the project's .gitignore ------------------------------------------------------------------


def git(project: Path, *args: str) -> subprocess.CompletedProcess[str] | None:
    """A git command in the project, or None when git is not installed."""
    try:
        return subprocess.run(["git", "-C", str(project), *args], capture_output=True, text=True,
                              check=False)
    except OSError:
        return None


def in_git_work_tree(project: Path) -> bool:
    done = git(project, "rev-parse", "--is-inside-work-tree")
    if done is None:
        return any((folder / ".git").exists() for folder in (project, *project.parents))
    return done.returncode == 0 and done.stdout.strip() == "true"


def already_ignored(project: Path, text: str, in_git: bool) -> bool:
    """Git's own answer when it can give one (covers parent and global ignores), else the lines."""
    done = git(project, "check-ignore", "-q", ARCHIVE_FOLDER) if in_git else None
    if done is not None and done.returncode in (0, 1):
        return done.returncode == 0
    wanted = {f"{lead}{name}{trail}" for lead in ("", "/") for trail in ("", "/", "/**")
              for name in (".claude", ".claude/session-core")}
    return any(line.strip() in wanted for line in text.splitlines())


def ensure_gitignore(project: Path, dry: bool) -> str:
    """Transcripts hold code and secrets: keep the archive folder out of commits."""
    path = project / ".gitignore"
    old = read_bytes(path)
    in_git = in_git_work_tree(project)
    if old is None and not in_git:
        return "gitignore: not a git work tree and no .gitignore; nothing to do"
    if already_ignored(project, (old or b"").decode("utf-8", "replace"), in_git):
        return f"gitignore: {ARCHIVE_FOLDER} is already ignored"
    if dry:
        return f"gitignore: would add {ARCHIVE_FOLDER} to {path}"
    eol = b"\r\n" if old and b"\r\n" in old else b"\n"
    lead = old or b""
    if lead and not lead.endswith(b"\n"):
        lead += eol
    write_atomic(path, lead + ARCHIVE_FOLDER.encode() + eol)
    return f"gitignore: added {ARCHIVE_FOLDER} to {path}"


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
            common = read_bytes(gitdir / "commondir")
            if common is not None:
                gitdir = gitdir / common.decode("utf-8", "replace").strip()
            return folder, Path(os.path.abspath(gitdir / "info" / "exclude"))
    return None


def exclude_pattern(top: Path, project: Path) -> str:
    """``.claude/settings.local.json`` anchored at the project's folder inside the work tree."""
    try:
        inside = Path(os.path.realpath(project)).relative_to(os.path.realpath(top)).as_posix()
    except ValueError:
        inside = "."
    if inside == ".":
        return LOCAL_SETTINGS
    return "/" + re.sub(r"([\\*?\[])", r"\\\1", inside) + "/" + LOCAL_SETTINGS


def ensure_excluded(target: Target, plan: SettingsPlan, dry: bool) -> list[str]:
    """settings.local.json holds this user's absolute paths: when we created it (now or on an
    earlier run) in a git work tree, keep it out of ``git status`` through ``.git/info/exclude``,
    which is not committed. Uninstall leaves the line: it ignores nothing else."""
    if target.shared or plan.new is None or (plan.record or {}).get("existed", True):
        return []
    found = git_root_and_exclude(target.project)
    if found is None:
        return []
    top, exclude = found
    checked = git(target.project, "check-ignore", "-q", LOCAL_SETTINGS)
    pattern = exclude_pattern(top, target.project)
    old = read_bytes(exclude)
    if checked is not None and checked.returncode in (0, 1):
        covered = checked.returncode == 0
    else:
        covered = pattern in (old or b"").decode("utf-8", "replace").splitlines()
    if covered:
        return []
    if dry:
        return [f"exclude: would add {pattern} to {exclude}"]
    lead = old or b""
    if lead and not lead.endswith(b"\n"):
        lead += b"\n"
    try:
        write_atomic(exclude, lead + pattern.encode() + b"\n")
    except OSError as exc:
        return [f"warning: could not add {pattern} to {exclude} ({exc}); git will show"
                f" {target.settings} as untracked: do not commit it"]
    return [f"exclude: added {pattern} to {exclude} (the file holds your own paths)"]


# --- import, wiring check, command link, purge -------------------------------------------------


def import_transcripts(layout: Layout, project: Path, dry: bool) -> str:
    """Backfill what Claude Code still keeps (it deletes transcripts after 30 days)."""
    if dry:
        return f"import: would run {APP} import --project {project}"
    done = run([str(layout.cli), "import", "--project", str(project)], cwd=project)
    summary = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
    if done.returncode == 0:
        return f"import: {summary}"
    if done.returncode == 1:  # some files failed; the rest is in and the hooks still work
        return f"import: {summary}\nwarning: some transcripts were skipped:\n{tail(done.stderr, 5)}"
    raise InstallError(f"'{APP} import' failed (exit {done.returncode}):\n{tail(done.stderr)}",
                       f"run '{layout.cli} import --project {shlex.quote(str(project))}' to see"
                       " why, fix that, then run again")


def our_handler(settings_bytes: bytes, event: str, prefixes: tuple[str, ...]) -> dict[str, JSON]:
    """Our handler for an event, taken from the very bytes that go into the settings file."""
    hooks = json.loads(settings_bytes.decode("utf-8-sig")).get("hooks", {})
    for group in hooks.get(event, []):
        for handler in group.get("hooks", []) if isinstance(group, dict) else []:
            if handler_is_ours(handler, prefixes):
                return dict(handler)
    raise InstallError(f"no {event} hook of ours in the merged settings",
                       "restore settings.template.json from the repository")


def call(argv: list[str] | str, what: str, stdin: JSON, project: Path,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a hook the way Claude Code does: JSON on stdin, in the project, with a time limit."""
    try:
        done = subprocess.run(argv, input=json.dumps(stdin), capture_output=True, text=True,
                              timeout=CHECK_TIMEOUT, cwd=project, env=env,
                              shell=isinstance(argv, str), check=False)
    except subprocess.TimeoutExpired as exc:
        shown = argv if isinstance(argv, str) else shlex.join(argv)
        raise InstallError(f"the {what} did not finish within {CHECK_TIMEOUT:.0f} s",
                           f"run it by hand to see where it hangs: {shown}") from exc
    except OSError as exc:
        raise InstallError(f"the {what} could not start: {exc}",
                           "run this installer again") from exc
    if done.returncode != 0:
        raise InstallError(f"the {what} exited with {done.returncode}:\n{tail(done.stderr)}",
                           "fix that and run again; nothing was written to the settings file")
    return done


def handoff_chars(stdout: str) -> int:
    """SessionStart output must be empty or JSON naming the event; returns the context length."""
    if not stdout.strip():
        return 0
    value = parse_quietly(stdout.encode())
    output = value.get("hookSpecificOutput") if isinstance(value, dict) else None
    if not isinstance(output, dict) or output.get("hookEventName") != "SessionStart":
        raise InstallError(f"the SessionStart hook printed something unexpected: {stdout[:200]!r}",
                           "it must print nothing or JSON with hookSpecificOutput.hookEventName")
    context = output.get("additionalContext")
    return len(context) if isinstance(context, str) else 0


def hooks_folder(project: Path) -> Path:
    """Where the hook runtime keeps the archive and its side files: the rule of
    session_core.live.archive_dir_for (``SESSION_CORE_DATA_DIR``, made real, else the project's
    folder), evaluated as the hooks do, in the project (a relative override is relative to it)."""
    moved = os.environ.get("SESSION_CORE_DATA_DIR")
    if moved:
        return Path(os.path.realpath(os.path.join(project, os.path.expanduser(moved))))
    return project / ".claude" / APP


def check_health(project: Path, since: float) -> None:
    """The hook runtime exits 0 whatever happens (it must never block Claude Code), so exit 0
    alone proves little: a failure it noted in health.json during the probe fails the check."""
    folder = hooks_folder(project)
    health = parse_quietly(read_bytes(folder / "health.json") or b"{}")
    failed_at = health.get("failed_at") if isinstance(health, dict) else None
    if isinstance(failed_at, (int, float)) and failed_at >= since:
        raise InstallError(f"the SessionStart hook exited 0 but recorded a failure in"
                           f" {folder / 'health.json'}: {health.get('last_error')}",
                           "fix that and run again; nothing was written to the settings file")


def check_wiring(layout: Layout, plan: SettingsPlan, project: Path) -> str:
    """Prove the hooks run as written: a real SessionStart payload, then the status line."""
    handler = our_handler(plan.new or b"{}", "SessionStart", our_prefixes(layout))
    argv = [handler["command"], *handler.get("args", [])]
    payload = {"session_id": str(uuid.uuid4()), "hook_event_name": "SessionStart",
               "source": "startup", "cwd": str(project)}
    started, wall = time.monotonic(), time.time()
    done = call(argv, "SessionStart hook", payload, project,
                {**os.environ, "CLAUDE_PROJECT_DIR": str(project)})
    chars, seconds = handoff_chars(done.stdout), time.monotonic() - started
    check_health(project, wall)
    status = {"session_id": payload["session_id"], "cwd": str(project), "version": "2.1.0",
              "model": {"id": "claude-sonnet-4-5", "display_name": "Sonnet 4.5"},
              "workspace": {"current_dir": str(project), "project_dir": str(project)}}
    line = call(layout.status_command(), "status line command", status, project).stdout
    # the probe session never ends: drop its live-state file (a fresh id, so the file is ours)
    (hooks_folder(project) / "live" / f"{payload['session_id']}.json").unlink(missing_ok=True)
    shown = re.sub(r"\x1b\[[0-9;]*m", "", (line.strip().splitlines() or [""])[0])
    return (f"check: SessionStart hook ok in {seconds:.2f} s ({chars} characters of handoff);"
            f" status line ok: {shown!r}")


def link_command(layout: Layout, dry: bool) -> list[str]:
    """``~/.local/bin/session-core`` -> the venv's script; a foreign file there is left alone."""
    bin_dir = Path.home() / ".local" / "bin"
    link = bin_dir / APP
    if WINDOWS:
        return [f"command: add {layout.bin} to PATH to run {APP}"]
    if link.is_symlink() and os.readlink(link) == str(layout.cli):
        lines = [f"command: {link} is linked"]
    elif link.is_symlink() or link.exists():
        lines = [f"note: {link} exists and is not ours; left alone (the command is {layout.cli})"]
    elif dry:
        lines = [f"command: would link {link} -> {layout.cli}"]
    else:
        bin_dir.mkdir(parents=True, exist_ok=True)
        os.symlink(layout.cli, link)
        lines = [f"command: linked {link} -> {layout.cli}"]
    on_path = {os.path.realpath(p) for p in os.environ.get("PATH", "").split(os.pathsep) if p}
    if os.path.realpath(bin_dir) not in on_path:
        lines.append(f"hint: {bin_dir} is not on your PATH; add to your shell profile:\n"
                     '  export PATH="$HOME/.local/bin:$PATH"')
    return lines


def confirm_purge(target: Target, yes: bool, dry: bool) -> bool:
    """Ask before deleting archived sessions: they may be the only copy left."""
    if yes or dry or not target.archive.exists():
        return True
    return ask(f"Delete {target.archive} and every session archived in it? [y/N] ")


def ask(question: str) -> bool:
    """A yes/no prompt; no answer (closed stdin) is no."""
    try:
        answer = input(question)
    except EOFError:
        print()
        answer = ""
    return answer.strip().lower() in ("y", "yes")


def purge(target: Target, dry: bool) -> str:
    folder = target.archive
    if not folder.exists():
        return f"purge: nothing at {folder}"
    if dry:
        return f"purge: would delete {folder}"
    try:
        shutil.rmtree(folder)
    except OSError as exc:
        raise InstallError(f"could not delete {folder}: {exc}",
                           "close this project's Claude Code sessions, then retry") from exc
    return f"purge: deleted {folder}"


# --- the two commands --------------------------------------------------------------------------


def say(lines: str | list[str]) -> None:
    for line in [lines] if isinstance(lines, str) else lines:
        print(line, flush=True)


def show_dry_run(plan: SettingsPlan, actions: list[str]) -> None:
    """What would change, and nothing else: no file, folder or process touched."""
    print("Dry run: nothing is changed.")
    if plan.changes:
        print(unified_diff(plan.target.settings, plan.old, plan.new), end="")
    print("Actions:")
    for action in actions:
        print("  - " + action.replace("\n", "\n    "))


def settings_action(plan: SettingsPlan) -> str:
    path = plan.target.settings
    if not plan.changes:
        return f"settings: no change to {path}"
    if plan.new is None:
        return f"settings: would remove {path}"
    if plan.drop_backup:
        return f"settings: would restore {path} from {plan.target.backup.name}"
    backup = f" (backup: {plan.target.backup})" if plan.backup is not None else ""
    return f"settings: would write {path}{backup}"


SHARED_WARNING = """\
warning: --shared writes this machine's absolute paths into {settings},
  which your team commits: {python} and {hooks}.
  Teammates who pull it run these hooks at these paths: whoever has not run install.py, or has a
  different HOME, gets a failing hook in every session. Paths are per user: each teammate must
  run install.py themselves (each run adds that user's own paths to the file). The default,
  .claude/settings.local.json, stays per user and out of git."""


def claude_version() -> tuple[int, ...] | None:
    """The version of the ``claude`` on PATH, or None if there is none or it cannot say."""
    exe = shutil.which("claude")
    if exe is None:
        return None
    try:
        done = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False,
                              timeout=CHECK_TIMEOUT, stdin=subprocess.DEVNULL,
                              env={**os.environ, "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"})
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r"(\d+)\.(\d+)\.(\d+)", done.stdout)
    return tuple(int(part) for part in found.groups()) if found else None


def check_claude(yes: bool, dry: bool) -> str:
    """Refuse (unless confirmed) to wire hooks a too-old Claude Code would run wrongly."""
    since = ".".join(map(str, EXEC_FORM_SINCE))
    version = claude_version()
    if version is None:
        return (f"claude: not found on PATH (or it did not say its version); the hooks need"
                f" Claude Code {since} or newer")
    shown = ".".join(map(str, version))
    if version >= EXEC_FORM_SINCE:
        return f"claude: {shown} runs exec-form hooks"
    print(f"Claude Code {shown} on PATH is older than {since}, the first that runs hooks in"
          f" exec form (command + args) as {APP}'s do: each event would fail until you update.",
          file=sys.stderr, flush=True)
    if yes or dry:
        return f"claude: {shown} is older than {since}; installing anyway (--yes or --dry-run)"
    if not ask("Install anyway? [y/N] "):
        raise InstallError(f"Claude Code {shown} is too old for these hooks; nothing was changed",
                           "update it (claude update, or npm install -g"
                           " @anthropic-ai/claude-code), then run install.py again")
    return f"claude: {shown} is older than {since}; installed anyway, as confirmed"


def confirm_shared(layout: Layout, target: Target, yes: bool, dry: bool) -> None:
    """Say what ``--shared`` does to teammates; go on only after --yes or a yes at the prompt."""
    print(SHARED_WARNING.format(settings=target.settings, python=layout.python,
                                hooks=layout.hooks), file=sys.stderr, flush=True)
    if yes or dry:
        return
    if not ask("Write these paths into the shared settings.json? [y/N] "):
        raise InstallError("--shared was not confirmed; nothing was changed",
                           "run again with --shared --yes, or without --shared for a per-user"
                           " install", EXIT_USAGE)


def install(args: argparse.Namespace, layout: Layout, target: Target) -> None:
    claude = check_claude(args.yes, args.dry_run)
    if target.shared:
        confirm_shared(layout, target, args.yes, args.dry_run)
    template = load_template(layout)
    state = load_state(layout)
    plan = plan_install(layout, target, template, args.statusline, state)
    project = target.project
    if args.dry_run:
        show_dry_run(plan, [
            claude, ensure_venv(layout, True), sync_hooks(layout, True),
            ensure_gitignore(project, True), import_transcripts(layout, project, True),
            "check: would run the SessionStart hook and the status line once",
            settings_action(plan), *ensure_excluded(target, plan, True),
            *link_command(layout, True), *plan.notes])
        return
    say([claude, ensure_venv(layout, False), sync_hooks(layout, False),
         ensure_gitignore(project, False), import_transcripts(layout, project, False)])
    say(check_wiring(layout, plan, project))  # before writing: a broken hook never goes live
    apply_settings(plan, layout, state)
    say([describe_settings(plan, uninstall=False), *ensure_excluded(target, plan, False),
         *plan.notes, *link_command(layout, False)])
    say(f"Done: {APP} archives every Claude Code session of {project} from the next one on.")


def other_file_note(layout: Layout, target: Target) -> list[str]:
    other = Target(target.project, not target.shared)
    data = read_bytes(other.settings)
    settings = parse_quietly(data) if data is not None else None
    if isinstance(settings, dict) and holds_ours(settings, our_prefixes(layout)):
        flag = "--uninstall" if target.shared else "--uninstall --shared"
        return [f"note: {other.settings} has {APP} entries too; run with {flag} to remove them"]
    return []


def uninstall(args: argparse.Namespace, layout: Layout, target: Target) -> None:
    state = load_state(layout)
    plan = plan_uninstall(layout, target, state)
    if args.dry_run:
        actions = [settings_action(plan), *([purge(target, True)] if args.purge else [])]
        show_dry_run(plan, actions)
        return
    wipe = args.purge and confirm_purge(target, args.yes, args.dry_run)
    apply_settings(plan, layout, state)
    say(describe_settings(plan, uninstall=True))
    if wipe:
        say(purge(target, False))
    elif args.purge:
        say(f"purge: kept {target.archive}")
    say([*other_file_note(layout, target),
         f"kept: {layout.data} (shared by every project); the archive "
         f"{'is gone' if wipe else f'stays in {target.archive}'}"])


def resolve_project(arg: str | None) -> Path:
    project = Path(arg if arg is not None else os.getcwd()).expanduser().resolve()
    if not project.is_dir():
        raise InstallError(f"{project} is not a directory",
                           "pass the project folder: python3 install.py /path/to/project",
                           EXIT_USAGE)
    return project


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="install.py", description="Install claude-session-core's hooks into a project.",
        epilog="--shared writes absolute paths of this user's install (venv, hooks folder) into"
               " the committed .claude/settings.json: teammates who have not installed, or whose"
               " HOME differs, get a failing hook in every session. Each teammate must run"
               " install.py themselves; paths are per user. It asks first (--yes skips that).")
    parser.add_argument("project", nargs="?", help="project folder (default: current directory)")
    parser.add_argument("--shared", action="store_true",
                        help="use .claude/settings.json (committed) instead of settings.local.json;"
                             " puts YOUR absolute paths in a file your team shares (see below);"
                             " asks first")
    parser.add_argument("--statusline", action="store_true",
                        help="replace an existing statusLine (uninstall puts it back)")
    parser.add_argument("--uninstall", action="store_true",
                        help="take our entries out of the settings file; data is kept")
    parser.add_argument("--purge", action="store_true",
                        help="with --uninstall: also delete the project's archive folder")
    parser.add_argument("-y", "--yes", action="store_true",
                        help="do not ask before --purge or --shared")
    parser.add_argument("--dry-run", action="store_true",
                        help="print what would change (settings diff, actions); change nothing")
    args = parser.parse_args(argv)
    if args.purge and not args.uninstall:
        parser.error("--purge only goes with --uninstall")
    if args.statusline and args.uninstall:
        parser.error("--statusline is for installing")
    return args


def main(argv: list[str] | None = None) -> int:
    if sys.version_info < (3, 10):  # noqa: UP036 - any python3 may run this file
        print("Error: session-core needs Python 3.10 or newer\nTry: run this with a newer"
              " python3", file=sys.stderr)
        return EXIT_FAILURE
    args = parse_args(argv)
    try:
        layout = Layout(Path(__file__).resolve().parent, user_data_dir())
        target = Target(resolve_project(args.project), args.shared)
        (uninstall if args.uninstall else install)(args, layout, target)
    except InstallError as exc:
        print(f"Error: {exc.message}\nTry: {exc.hint}", file=sys.stderr)
        return exc.code
    except OSError as exc:
        print(f"Error: {exc}\nTry: check the path and its permissions", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("Error: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
