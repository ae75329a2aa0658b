"""Where things live: the project's archive, Claude Code's transcripts, our user-level dirs.

Environment variables move every location so tests (and cautious users) never touch a real home:
``SESSION_CORE_DATA_DIR`` replaces ``<project>/.claude/session-core``, ``CLAUDE_CONFIG_DIR`` is
Claude Code's own override of ``~/.claude``, ``SESSION_CORE_USER_CONFIG`` names the user config
file.

Every function takes ``str`` or ``Path`` and answers ``str``: hooks import this module, and
``pathlib`` (with the ``urllib.parse`` and ``ipaddress`` it imports) would cost each hook ~4 ms,
a third of a bare interpreter start. The CLI wraps answers in ``Path`` where it wants one.
"""

from __future__ import annotations

import os
import sys

from .live import APP_FOLDER as APP_NAME
from .live import DATA_DIR_ENV as DATA_DIR_ENV

TYPE_CHECKING = False  # not typing's: see the module docstring
if TYPE_CHECKING:
    from typing import TypeAlias

    StrPath: TypeAlias = "str | os.PathLike[str]"

USER_CONFIG_ENV = "SESSION_CORE_USER_CONFIG"
ARCHIVE_NAME = "archive.db"
PROJECT_CONFIG_NAME = "session-core.json"
_CLAUDE_FOLDER_MAX = 200


def project_root(project: StrPath | None) -> str:
    """The project directory, absolute and resolved; the current directory when none is given."""
    return os.path.realpath(os.path.expanduser(os.fspath(project)) if project is not None
                            else os.getcwd())


def archive_dir(project: StrPath) -> str:
    from .live import archive_dir_for

    return archive_dir_for(os.fspath(project))


def archive_path(project: StrPath) -> str:
    return os.path.join(archive_dir(project), ARCHIVE_NAME)


def project_config_path(project: StrPath) -> str:
    return os.path.join(project, ".claude", PROJECT_CONFIG_NAME)


def user_config_path() -> str:
    override = os.environ.get(USER_CONFIG_ENV)
    if override:
        return os.path.expanduser(override)
    if sys.platform == "linux":
        return os.path.join(_xdg("XDG_CONFIG_HOME", "~/.config"), APP_NAME, "config.json")
    from platformdirs import user_config_dir

    return os.path.join(user_config_dir(APP_NAME, appauthor=False), "config.json")


def log_dir() -> str:
    if sys.platform == "linux":
        return os.path.join(_xdg("XDG_STATE_HOME", "~/.local/state"), APP_NAME, "log")
    from platformdirs import user_log_dir

    return user_log_dir(APP_NAME, appauthor=False)


def _xdg(variable: str, default: str) -> str:
    """platformdirs' rule on Linux (an absolute ``$XDG_*`` wins), without importing it: that
    import costs a hook ~9 ms, most of a bare interpreter start. Tests compare both answers."""
    value = os.environ.get(variable, "")
    return value if os.path.isabs(value) else os.path.expanduser(default)


def claude_config_dir() -> str:
    override = os.environ.get("CLAUDE_CONFIG_DIR")
    return os.path.expanduser(override) if override else os.path.expanduser("~/.claude")


def claude_projects_dir(configured: str | None = None) -> str:
    """``projects/`` under the ``claude_config_dir`` setting if given, else Claude Code's own."""
    if configured:
        return os.path.join(os.path.expanduser(configured), "projects")
    return os.path.join(claude_config_dir(), "projects")


def encode_project_folder(project: StrPath) -> str:
    """Claude Code's folder name for a project: every non-alphanumeric character becomes '-'.

    Names past 200 characters get a hash suffix whose recipe is not documented, so callers that
    need the real folder use :func:`find_project_folder`, which matches on the prefix.
    """
    return "".join(c if c.isascii() and c.isalnum() else "-" for c in os.fspath(project))


def find_project_folder(project: StrPath,
                        projects_dir: StrPath | None = None) -> str:
    """The folder under Claude Code's ``projects/`` that holds this project's transcripts."""
    root = os.fspath(projects_dir) if projects_dir else claude_projects_dir()
    name = encode_project_folder(project)
    if len(name) <= _CLAUDE_FOLDER_MAX:
        return os.path.join(root, name)
    prefix = name[:_CLAUDE_FOLDER_MAX]
    if os.path.isdir(root):
        for candidate in sorted(os.listdir(root)):
            if candidate.startswith(prefix) and os.path.isdir(os.path.join(root, candidate)):
                return os.path.join(root, candidate)
    return os.path.join(root, prefix)


def ensure_private_dir(path: StrPath) -> str:
    """Create ``path`` (and parents) and make the leaf 0700: transcripts hold code and secrets.
    An empty path (the folder of a bare file name) is the current directory, as for pathlib."""
    folder = os.fspath(path) or os.curdir
    os.makedirs(folder, exist_ok=True)
    if os.stat(folder).st_mode & 0o777 != 0o700:
        os.chmod(folder, 0o700)
    return folder


def make_private_file(path: StrPath) -> None:
    """Best effort 0600 on a file we own (database, its -wal/-shm, backups, logs)."""
    try:
        if os.stat(path).st_mode & 0o777 != 0o600:
            os.chmod(path, 0o600)
    except OSError:
        pass
