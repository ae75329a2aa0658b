"""Opening a project's archive: the one entry point the CLI and the hooks share."""

from __future__ import annotations

import os

from . import paths
from .config import Settings, load_settings
from .db import Database
from .errors import DatabaseError
from .migrations import LATEST_VERSION, migrate


class Archive:
    __slots__ = ("db", "project", "settings")

    def __init__(self, project: str, settings: Settings, db: Database) -> None:
        self.project, self.settings, self.db = project, settings, db

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_archive(project: str | os.PathLike[str] | None = None, settings: Settings | None = None,
                 upgrade: bool = True) -> Archive:
    """Open (creating and migrating if needed) the archive of ``project``.

    ``upgrade=False`` (hooks) still creates a new archive but refuses to migrate an existing
    one: a migration backs up the whole archive, which many hooks starting at once would each
    do, inside budgets that kill them half-way. The CLI and install.py upgrade instead.
    """
    root = paths.project_root(project)
    settings = settings or load_settings(root)
    db = Database(paths.archive_path(root), settings.busy_timeout_ms)
    try:
        current = db.user_version()
        if not upgrade and 0 < current < LATEST_VERSION:
            raise DatabaseError(
                f"the archive {db.path} has schema {current} and needs upgrading to"
                f" {LATEST_VERSION}; hooks do not upgrade it",
                f"run 'session-core status --project {root}' once (it backs up, then upgrades)")
        migrate(db)
    except BaseException:
        db.close()
        raise
    return Archive(root, settings, db)
