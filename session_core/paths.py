"""Where things live: the project's archive, Claude Code's transcripts, our user-level dirs.

Environment variables move every location so tests (and cautious users) never touch a real home:
``SESSION_CORE_DATA_DIR`` replaces ``<project>/.claude/session-core``, ``CLAUDE_CONFIG_DIR`` is
Claude Code's own override of ``~/.claude``, ``SESSION_CORE_USER_CONFIG`` names the user config
file.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from .live import APP_FOLDER as APP_NAME
from .live import DATA_DIR_ENV as DATA_DIR_ENV

USER_CONFIG_ENV = "SESSION_CORE_USER_CONFIG"
ARCHIVE_NAME = "archive.db"
PROJECT_CONFIG_NAME = "session-core.json"
_CLAUDE_FOLDER_MAX = 200
_NON_ALNUM = re.compile(r"[^A-Za-z0-9]")


def project_root(project: str | os.PathLike[str] | None) -> Path:
    """The project directory, absolute; the current directory when none is given."""
    return Path(project if project is not None else os.getcwd()).expanduser().resolve()


def archive_dir(project: Path) -> Path:
    from .live import archive_dir_for

    return Path(archive_dir_for(str(project)))


def archive_path(project: Path) -> Path:
    return archive_dir(project) / ARCHIVE_NAME


def project_config_path(project: Path) -> Path:
    return project / ".claude" / PROJECT_CONFIG_NAME


def user_config_path() -> Path:
    override = os.environ.get(USER_CONFIG_ENV)
    if override:
        return Path(override).expanduser()
    if sys.platform == "linux":
        return Path(_xdg("XDG_CONFIG_HOME", "~/.config")) / APP_NAME / "config.json"
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME, appauthor=False)) / "config.json"


def log_dir() -> Path:
    if sys.platform == "linux":
        return Path(_xdg("XDG_STATE_HOME", "~/.local/state")) / APP_NAME / "log"
    from platformdirs import user_log_dir

    return Path(user_log_dir(APP_NAME, appauthor=False))


def _xdg(variable: str, default: str) -> str:
    """platformdirs' rule on Linux (an absolute ``$XDG_*`` wins), without importing it: that
    import costs a hook ~9 ms, most of a bare interpreter start. Tests compare both answers."""
    value = os.environ.get(variable, "")
    return value if os.path.isabs(value) else os.path.expanduser(default)


def claude_config_dir() -> Path:
    override = os.environ.get("CLAUDE_CONFIG_DIR")
    return Path(override).expanduser() if override else Path.home() / ".claude"


def claude_projects_dir(configured: str | None = None) -> Path:
    """``projects/`` under the ``claude_config_dir`` setting if given, else Claude Code's own."""
    if configured:
        return Path(configured).expanduser() / "projects"
    return claude_config_dir() / "projects"


def encode_project_folder(project: Path) -> str:
    """Claude Code's folder name for a project: every non-alphanumeric character becomes '-'.

    Names past 200 characters get a hash suffix whose recipe is not documented, so callers that
    need the real folder use :func:`find_project_folder`, which matches on the prefix.
    """
    return _NON_ALNUM.sub("-", str(project))


def find_project_folder(project: Path, projects_dir: Path | None = None) -> Path:
    """The folder under Claude Code's ``projects/`` that holds this project's transcripts."""
    root = projects_dir or claude_projects_dir()
    name = encode_project_folder(project)
    if len(name) <= _CLAUDE_FOLDER_MAX:
        return root / name
    prefix = name[:_CLAUDE_FOLDER_MAX]
    if root.is_dir():
        for candidate in sorted(root.iterdir()):
            if candidate.name.startswith(prefix) and candidate.is_dir():
                return candidate
    return root / prefix


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) and make the leaf 0700: transcripts hold code and secrets."""
    path.mkdir(parents=True, exist_ok=True)
    if path.stat().st_mode & 0o777 != 0o700:
        os.chmod(path, 0o700)
    return path


def make_private_file(path: Path) -> None:
    """Best effort 0600 on a file we own (database, its -wal/-shm, backups, logs)."""
    try:
        if path.exists() and path.stat().st_mode & 0o777 != 0o600:
            os.chmod(path, 0o600)
    except OSError:
        pass
