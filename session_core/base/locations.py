"""Where our own files live: the project's archive folder, our settings, logs and install.

Environment variables move every location, so tests (and cautious users) never touch a real
home: ``SESSION_CORE_DATA_DIR`` replaces ``<project>/.claude/session-core``,
``SESSION_CORE_USER_CONFIG`` names the user settings file, and the XDG variables move the rest
as platformdirs would. Claude Code's own folders are ``transcript.layout``'s business.

Every function takes ``str`` or ``PathLike`` and answers ``str``: hooks and the status line use
this module, and ``pathlib`` is kept off their path (bench/README.md, the import ledger).
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # the name, not typing's: typing stays off the hook path
if TYPE_CHECKING:
    from .fs import StrPath

APP_FOLDER = "session-core"
DATA_DIR_ENV = "SESSION_CORE_DATA_DIR"
USER_CONFIG_ENV = "SESSION_CORE_USER_CONFIG"
ARCHIVE_NAME = "archive.db"
BACKUPS_DIR = "backups"
LIVE_DIR = "live"
QUARANTINE_DIR = "quarantine"
"""Damaged archives moved aside (never deleted), one folder per move: ``<time>/archive.db``."""
HEALTH_NAME = "health.json"
FORGOTTEN_NAME = "forgotten.json"
"""The tombstones of forgotten sessions, beside the archive as well as in it: a backup restored
in its place (``recover``, a hook setting damage aside) predates them, and must not bring those
sessions back."""
SPOOL_PREFIX, SPOOL_SUFFIX = "spool-", ".jsonl"
"""What a hook spools while the archive is busy: ``spool-<time>-<pid>.jsonl``, one per item."""
FAILED_MARKER_NAME = "save-failed"
LEGACY_DIGESTS_DIR = "digests"
"""Where versions before schema v3 kept handoff digests (now rows of the archive)."""
ARCHIVE_FOLDER_FILES = {
    "": r"archive\.db(-wal|-shm|-journal|\.set-aside\.lock|\.restoring)?"
        r"|health\.json|forgotten\.json|\.forgotten\.json\.\d+\.tmp|\.health\.json\.\d+\.tmp|spool-\d{8}T\d{12}Z-\d+\.jsonl|\.spool-.+\.tmp|save-failed"
        r"|archive\.db\.(backup|check)\.lock",
    BACKUPS_DIR: r"archive-.+\.(db|tmp)",
    LIVE_DIR: r"[0-9A-Za-z_-]+\.(json|recalled)|\..+\.json\.\d+\.tmp",
    LEGACY_DIGESTS_DIR: r"[0-9A-Za-z_-]+\.json|\..+\.tmp",
}
"""What we keep in an archive folder, by subfolder (``""``: the folder itself), as regular
expressions of file names: a purge of a folder the user named (``SESSION_CORE_DATA_DIR``)
deletes these files, then each folder they leave empty, and nothing else."""
PROJECT_CONFIG_NAME = "session-core.json"


def project_root(project: StrPath | None) -> str:
    """The project directory, absolute and resolved; the current directory when none is given."""
    return os.path.realpath(os.path.expanduser(os.fspath(project)) if project is not None
                            else os.getcwd())


def find_project(start: StrPath) -> str:
    """The project ``start`` is in: the nearest folder up holding ``.claude/session-core/``
    (an archive lives there), looking no further than the repository's root (the nearest
    folder holding ``.git``) and never above the home folder; else ``start`` itself. A command
    run from ``PROJECT/src/`` finds ``PROJECT``'s archive; a subfolder Claude Code was started
    in (a package of a monorepo) without an archive yet stays its own project."""
    here = os.path.realpath(os.fspath(start))
    home = os.path.realpath(os.path.expanduser("~"))
    folder = here
    while True:
        if os.path.isdir(os.path.join(folder, ".claude", "session-core")):
            return folder
        parent = os.path.dirname(folder)
        if os.path.exists(os.path.join(folder, ".git")) or parent == folder \
                or (parent == home and here != home) or folder == home:
            return here
        folder = parent


def archive_dir(project: StrPath, cwd: StrPath | None = None) -> str:
    """``SESSION_CORE_DATA_DIR`` (made real), else ``<project>/.claude/session-core``: the one
    rule, shared by the CLI, the hooks, the status line and the installer. A relative override
    is relative to ``cwd`` (default: this process's): the installer asks what the hooks, which
    run in the project, will see."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        override = os.path.expanduser(override)
        if cwd is not None:
            override = os.path.join(os.fspath(cwd), override)
        return os.path.realpath(override)
    return os.path.join(os.fspath(project), ".claude", APP_FOLDER)


def archive_path(project: StrPath) -> str:
    return os.path.join(archive_dir(project), ARCHIVE_NAME)


def earlier_copies(archive: StrPath) -> list[str]:
    """Backups and quarantined copies of the archive at ``archive``: while any exist, a missing
    or empty archive is lost data to recover, not a first run."""
    folder = os.path.dirname(os.fspath(archive))
    found = []
    for sub in (BACKUPS_DIR, QUARANTINE_DIR):
        try:
            found += [os.path.join(folder, sub, name) for name in os.listdir(
                os.path.join(folder, sub)) if not name.startswith(".")]
        except OSError:
            continue
    return found


def project_config_path(project: StrPath) -> str:
    return os.path.join(os.fspath(project), ".claude", PROJECT_CONFIG_NAME)


def user_config_path() -> str:
    override = os.environ.get(USER_CONFIG_ENV)
    if override:
        return os.path.expanduser(override)
    if sys.platform == "linux":
        return os.path.join(_xdg("XDG_CONFIG_HOME", "~/.config"), APP_FOLDER, "config.json")
    from platformdirs import user_config_dir

    return os.path.join(user_config_dir(APP_FOLDER, appauthor=False), "config.json")


def log_dir() -> str:
    if sys.platform == "linux":
        return os.path.join(_xdg("XDG_STATE_HOME", "~/.local/state"), APP_FOLDER, "log")
    from platformdirs import user_log_dir

    return user_log_dir(APP_FOLDER, appauthor=False)


def user_data_dir() -> str:
    """Where the installed suite lives (virtual environment, hook scripts, install records):
    platformdirs' ``user_data_dir``, computed without it, since ``install.py`` runs before any
    dependency exists. Tests compare the answers."""
    if os.name == "nt":
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser("~/AppData/Local")
    elif sys.platform == "darwin":
        base = os.path.expanduser("~/Library/Application Support")
    else:
        base = _xdg("XDG_DATA_HOME", "~/.local/share")
    return os.path.join(os.path.abspath(base), APP_FOLDER)


def _xdg(variable: str, default: str) -> str:
    """platformdirs' rule on Linux (an absolute ``$XDG_*`` wins), without importing it: hooks
    would pay for the import on every event. Tests compare both answers."""
    value = os.environ.get(variable, "")
    return value if os.path.isabs(value) else os.path.expanduser(default)
