"""Where the installed suite lives, and which project and settings file an install is about.

The suite is shared by every project of a user: ``<user data>/session-core/`` holds the
virtual environment, the hook scripts Claude Code runs, the settings template they were wired
from, the install records and the pre-install copies of settings files. A project only gets
entries in one of its Claude Code settings files (and its archive, once hooks run).
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...base.errors import SessionCoreError
from ...base.fs import ensure_private_dir, write_atomic
from ...base.locations import APP_FOLDER, user_data_dir

WINDOWS = os.name == "nt"
HOOK_SCRIPTS = ("run.py", "status_line.py", "recall.py", "suite_path.py")
"""What ``hooks/`` of a checkout holds: every hook event runs ``run.py <Event>``, but the status
line and the recall hooks (on every edit and failed command), which have lighter entries; all
three start with ``python -S`` and find the suite's packages through ``suite_path.py``."""
LEGACY_HOOK_SCRIPTS = ("chat_manager.py", "context_manager.py", "session_loader.py",
                       "session_saver.py")
"""Names earlier versions wired (each ran ``<script> <Event>``): where one is still in the suite,
it gets ``run.py``'s content, so a project not yet re-installed keeps saving."""
TEMPLATE = "settings.template.json"
LEGACY_BACKUP_SUFFIX = ".session-core-backup"
"""Earlier versions kept a settings file's pre-install copy beside it, in the project."""


@dataclass(frozen=True)
class Suite:
    """The installed suite's folders and files (see the module docstring)."""

    data: Path

    @classmethod
    def default(cls) -> Suite:
        return cls(Path(user_data_dir()))

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
        return self.bin / (f"{APP_FOLDER}.exe" if WINDOWS else APP_FOLDER)

    @property
    def hooks(self) -> Path:
        return self.data / "hooks"

    @property
    def template(self) -> Path:
        return self.data / TEMPLATE

    @property
    def stamp(self) -> Path:
        return self.venv / "session-core.stamp"  # inside the venv: a deleted venv has no stamp

    @property
    def state(self) -> Path:
        return self.data / "install-state.json"

    @property
    def backups(self) -> Path:
        return self.data / "settings-backups"

    def backup_of(self, settings: Path) -> Path:
        """Where the pre-install copy of a settings file is kept: out of the project, so the
        install leaves no file there a user would have to clean up."""
        key = hashlib.sha256(os.fsencode(os.path.abspath(settings))).hexdigest()[:16]
        return self.backups / f"{key}-{settings.name}"

    def status_command(self) -> str:
        """statusLine has no exec form: one shell string, each path quoted."""
        script = self.hooks / "status_line.py"
        return f"{shlex.quote(self.python.as_posix())} -S {shlex.quote(script.as_posix())}"

    def hook_prefixes(self) -> tuple[str, ...]:
        """How a command or argument that points into our hooks folder starts."""
        base = str(self.hooks)
        return tuple(dict.fromkeys((base + "/", base + os.sep, self.hooks.as_posix() + "/")))


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
    def legacy_backup(self) -> Path:
        return self.settings.with_name(self.settings.name + LEGACY_BACKUP_SUFFIX)

    @property
    def archive(self) -> Path:
        """The project's archive folder as the hooks will find it (``SESSION_CORE_DATA_DIR``,
        relative to the project, where they run, else ``.claude/session-core``)."""
        from ...base.locations import archive_dir

        return Path(archive_dir(self.project, cwd=self.project))

    def other(self) -> Target:
        """The same project's other settings file."""
        return Target(self.project, not self.shared)


SCRIPT_MODE = 0o644
"""Hook scripts Claude Code runs: readable, writable by their owner only, whatever the umask."""
NOT_INSTALLED = ("run install.py from a checkout of session-core (it builds the suite, then"
                 " installs)")


def sync_suite(suite: Suite, source: Path | None, dry: bool) -> str:
    """The hook scripts and the settings template of ``source`` (a checkout) into the suite,
    only what differs; scripts wired by earlier versions are given ``run.py``'s content. With
    no ``source``, the suite must have them already."""
    wanted: dict[Path, bytes] = {}
    if source is not None:
        for name in HOOK_SCRIPTS:
            wanted[suite.hooks / name] = (source / "hooks" / name).read_bytes()
        wanted[suite.template] = (source / TEMPLATE).read_bytes()
    elif not (suite.hooks / HOOK_SCRIPTS[0]).is_file() or not suite.template.is_file():
        raise SessionCoreError(f"the suite's hook scripts are missing from {suite.hooks}",
                               NOT_INSTALLED)
    runner = wanted.get(suite.hooks / HOOK_SCRIPTS[0]) or (suite.hooks
                                                            / HOOK_SCRIPTS[0]).read_bytes()
    for name in LEGACY_HOOK_SCRIPTS:
        if (suite.hooks / name).is_file():
            wanted[suite.hooks / name] = runner
    changed = [path for path, data in wanted.items() if _read(path) != data]
    if not changed:
        return f"hooks: up to date ({suite.hooks})"
    names = ", ".join(path.name for path in changed)
    if dry:
        return f"hooks: would copy {names} to {suite.data}"
    ensure_private_dir(suite.hooks)
    for path in changed:
        write_atomic(path, wanted[path], mode=SCRIPT_MODE)
    return f"hooks: copied {names} to {suite.data}"


def load_template(suite: Suite, source: Path | None) -> dict[str, Any]:
    """settings.template.json (the checkout's, else the suite's) with our absolute paths in."""
    from .ours import substitute

    path = (source / TEMPLATE) if source is not None else suite.template
    try:
        template = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise SessionCoreError(f"cannot read the settings template {path}: {exc}",
                               NOT_INSTALLED) from exc
    names = {"SESSION_CORE_PYTHON": str(suite.python), "SESSION_CORE_HOOKS": str(suite.hooks),
             "SESSION_CORE_STATUS_COMMAND": suite.status_command()}
    filled: dict[str, Any] = substitute(template, names)
    if "${SESSION_CORE_" in json.dumps(filled) or not isinstance(filled.get("hooks"), dict):
        raise SessionCoreError(f"{path} has an unknown ${{SESSION_CORE_...}} name or no hooks",
                               "restore settings.template.json from the repository")
    return filled


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
