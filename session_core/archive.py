"""Opening a project's archive: the one entry point the CLI and the hooks share."""

from __future__ import annotations

from pathlib import Path

from . import paths
from .config import Settings, load_settings
from .db import Database
from .migrations import migrate


class Archive:
    __slots__ = ("db", "project", "settings")

    def __init__(self, project: Path, settings: Settings, db: Database) -> None:
        self.project, self.settings, self.db = project, settings, db

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_archive(project: Path | str | None = None, settings: Settings | None = None) -> Archive:
    """Open (creating and migrating if needed) the archive of ``project``."""
    root = paths.project_root(project)
    settings = settings or load_settings(root)
    db = Database(paths.archive_path(root), settings.busy_timeout_ms)
    try:
        migrate(db)
    except BaseException:
        db.close()
        raise
    return Archive(root, settings, db)
