"""Opening a project's archive: the one entry point the CLI and the hooks share."""

from __future__ import annotations

import os

from ..base import locations
from ..base.errors import DatabaseError
from ..base.settings import Settings, load_settings
from .connection import Database

LATEST_VERSION = 7
"""The schema this code writes; ``migrations`` (imported only to migrate) holds the steps to it
and refuses to load if its last step is another."""


class Archive:
    """A project's archive: where it is, its settings, its connection. ``upgraded_from`` is the
    schema version an upgrade started from in this process (None: no upgrade ran), so the
    caller can rebuild what the upgrade left to rebuild (the digests)."""

    __slots__ = ("db", "project", "settings", "upgraded_from")

    def __init__(self, project: str, settings: Settings, db: Database,
                 upgraded_from: int | None = None) -> None:
        self.project, self.settings, self.db = project, settings, db
        self.upgraded_from = upgraded_from

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_archive(project: str | os.PathLike[str] | None = None, settings: Settings | None = None,
                 upgrade: bool = True) -> Archive:
    """Open (creating and migrating if needed) the archive of ``project``.

    ``upgrade=False`` (hooks) still creates a new archive, and applies steps that only add
    tables (``Migration.additive``: no backup, one transaction under the write lock), but
    refuses any other migration: that backs up the whole archive, which many hooks starting at
    once would each do, inside budgets that kill them half-way. The CLI and the installer
    upgrade instead.
    """
    root = locations.project_root(project)
    settings = settings or load_settings(root)
    db = Database(locations.archive_path(root), settings.busy_timeout_ms,
                  young_empty_is_new=not upgrade)
    try:
        current = db.user_version()
        if current == LATEST_VERSION:
            return Archive(root, settings, db)
        if not upgrade and 0 < current < LATEST_VERSION:
            from .migrations import migrate_additive, only_additive_from

            if not only_additive_from(current):
                raise DatabaseError(
                    f"the archive {db.path} has schema {current} and needs upgrading to"
                    f" {LATEST_VERSION}; hooks do not upgrade it",
                    f"run 'session-core status --project {root}' once (it backs up, then"
                    " upgrades)")
            migrate_additive(db)  # only new tables: no backup, one transaction
            return Archive(root, settings, db, upgraded_from=current)
        from .migrations import migrate

        migrate(db, settings=settings)
    except BaseException:
        db.close()
        raise
    return Archive(root, settings, db, upgraded_from=current if current else None)
