"""The one process of a hook event: read the payload, run the event's handlers, always exit 0.

Our own failure must never block or slow Claude Code: malformed input, a locked, full or damaged
archive, a missing transcript are logged (``hook.log``) and the process exits 0 with nothing on
stdout. Each handler runs isolated (one raising does not stop the next), and a watchdog thread
ends the process at the event's time budget even if SQLite or the file system hangs.
"""

from __future__ import annotations

import os
import sys
import time

from ..base import locations
from ..base.errors import BusyError, DamagedError, SessionCoreError
from ..base.fs import PRIVATE, file_identity, restrict_umask
from ..base.settings import Settings, load_settings
from . import log
from .registry import EVENTS, Handler, handlers_for
from .stdio import (
    PayloadError,
    emit_context,
    parse_payload,
    project_dir,
    read_stdin,
    text_field,
    warn_wrong_types,
)
from .watchdog import Watchdog

TYPE_CHECKING = False  # the name, not typing's: typing stays off the hook path
if TYPE_CHECKING:
    from typing import Any

    from ..handoff.git import DirtyCheck
    from ..store.archive import Archive

_SQLITE_MARGIN_S = 0.15
"""Time kept back from a lock wait so the handler can still log and exit inside the budget."""


class HookContext:
    """What a handler gets: the payload, the project, settings, and a lazily opened archive."""

    def __init__(self, event: str, payload: dict[str, Any], project: str, settings: Settings,
                 deadline: float) -> None:
        self.event, self.payload, self.project = event, payload, project
        self.settings, self.deadline = settings, deadline
        self.context: list[str] = []
        """additionalContext pieces, in handler order (SessionStart only)."""
        self.used_archive = False
        """Set once the archive opened: only then does a clean run clear earlier failures."""
        self.dirty_check: DirtyCheck | None = None
        """SessionStart's ``git status``, started first so it runs while the others work."""
        self._archive: Archive | None = None
        self.busy = False
        """Another writer held the lock past ``hook_lock_wait_ms``: the rest of the event
        spools instead of waiting again."""
        self._opened: tuple[int, int] | None = None
        """The file the archive was opened from (device, inode): only that one is set aside."""

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    @property
    def session_id(self) -> str | None:
        return text_field(self.payload, "session_id")

    def archive(self) -> Archive:
        """Open once per process; a lock wait never outlasts what is left of the budget."""
        if self._archive is None:
            from ..store.archive import open_archive

            settings = self.settings.replace(busy_timeout_ms=self._lock_wait_ms())
            self._opened = file_identity(locations.archive_path(self.project))
            self._archive = open_archive(self.project, settings, upgrade=False)
            self._archive.db.hold_commits()  # one commit for the event: see close()
            self.used_archive = True
        return self._archive

    @property
    def archive_dir(self) -> str:
        """The project's archive folder (where the live state and health files are)."""
        return locations.archive_dir(self.project)

    def warn(self, message: str) -> None:
        """Worth a log line, not a failure (e.g. a transcript Claude Code has not written yet)."""
        log.log("WARN", self.event, message)

    def _lock_wait_ms(self) -> int:
        """The busy timeout: ``hook_lock_wait_ms``, or less when less of the budget is left;
        none at all once the event met a busy archive."""
        if self.busy:
            return 0
        wait_ms = int(max(0.05, self.remaining() - _SQLITE_MARGIN_S) * 1000)
        return max(0, min(wait_ms, self.settings.hook_lock_wait_ms,
                          self.settings.busy_timeout_ms))

    def note_busy(self, what: str) -> None:
        """The archive is busy: say so once (a warning, not a failure) and stop waiting."""
        if not self.busy:
            self.warn(f"archive busy (another writer holds it): {what}; caught up later")
        self.busy = True
        if self._archive is not None:
            try:  # noqa: SIM105 - contextlib is kept off the hook path
                self._archive.db.set_busy_timeout(0)
            except SessionCoreError:
                pass

    def spool(self, item: dict[str, Any]) -> None:
        """Keep what only the payload carries for the next run that gets the lock."""
        from ..store.spool import append

        append(locations.archive_path(self.project), item)

    def commit(self, tolerate_failure: bool = False) -> None:
        """Commit what the event's handlers wrote so far (one transaction, one sync for the
        event; a process ended at the budget before this loses it, and the next event
        catches the transcript up again). The next write takes the lock again, waiting no
        longer than what is left of the budget. ``tolerate_failure``: a commit made only so
        that others need not wait; if it fails, say so and leave it to :meth:`close`."""
        if self._archive is None:
            return
        db = self._archive.db
        try:
            db.commit_held()
        except SessionCoreError as exc:
            if not tolerate_failure:
                raise
            self.warn(f"early commit failed, left for the end of the event: {exc.message}")
            return
        db.set_busy_timeout(self._lock_wait_ms())

    def set_aside(self, damage: DamagedError) -> None:
        """The archive is damaged: drop what this event wrote to it (uncommitted), move it
        aside and let the next :meth:`archive` open its successor (``hook.setaside``)."""
        from .setaside import set_aside

        if self.dirty_check is not None:
            self.dirty_check.cancel()
            self.dirty_check = None
        if self._archive is not None:
            try:  # noqa: SIM105 - contextlib is kept off the hook path
                self._archive.close()
            except Exception:
                pass
            self._archive = None
        set_aside(self.project, self.settings, damage, self._opened, self.remaining())
        self.context.clear()  # the handlers run again and say it again

    def close(self) -> None:
        if self.dirty_check is not None:
            self.dirty_check.cancel()
            self.dirty_check = None
        if self._archive is not None:
            try:
                self._archive.db.commit_held()
            finally:
                self._archive.close()
                self._archive = None


def _budget_seconds(event: str | None, settings: Settings) -> float:
    ms = settings.session_end_budget_ms if event == "SessionEnd" else settings.hook_budget_ms
    return ms / 1000


def _run_handlers(ctx: HookContext) -> list[str]:
    """The event's handlers in order; failures are returned. Damage met by any of them
    (``auto_recover``): the archive is set aside and every handler runs again, once, against
    its successor, so this event's save is not lost."""
    failures: list[str] = []
    for attempt in (1, 2):
        failures = []
        for handler in handlers_for(ctx.event):
            failure, error = _run_handler(ctx, handler)
            if isinstance(error, BusyError):
                ctx.note_busy(f"{handler.name} skipped")
                continue
            if isinstance(error, DamagedError) and attempt == 1 and ctx.settings.auto_recover:
                ctx.set_aside(error)
                break
            if failure:
                failures.append(failure)
        else:
            return failures
    return failures


def _run_handler(ctx: HookContext, handler: Handler) -> tuple[str | None, Exception | None]:
    """Run one handler; its failure is logged and returned, never raised."""
    module_name, function_name = handler.target.split(":")
    try:
        # __import__, not importlib.import_module: importlib is kept off the hook path
        name = f"{__package__}.handlers.{module_name}"
        __import__(name)
        function = getattr(sys.modules[name], function_name)
        function(ctx)
    except Exception as exc:  # isolation: one handler's bug must not stop the next
        summary = f"{handler.name} failed: {type(exc).__name__}: {exc}"
        if not isinstance(exc, BusyError):  # busy: a warning (HookContext.note_busy)
            log.log("ERROR", ctx.event, summary + " | " + _where(exc))
        return summary, exc
    return None, None


def _where(exc: BaseException) -> str:
    import traceback  # only on failure: it is kept off the hook path

    frames = traceback.extract_tb(exc.__traceback__)[-3:]
    return " <- ".join(f"{os.path.basename(f.filename)}:{f.lineno}" for f in reversed(frames))


def _resolve_event(argv_event: str | None, payload: dict[str, Any]) -> str:
    event = argv_event or text_field(payload, "hook_event_name")
    if event not in EVENTS:
        raise PayloadError(f"unknown hook event {event!r}")
    return event


def run(argv: list[str], started: float) -> None:
    """Everything but the last-resort guard of :func:`main`."""
    argv_event = argv[0] if argv else None
    project = project_dir()
    watchdog = Watchdog(argv_event or "?", project)
    deadline = started + _budget_seconds(argv_event, Settings())
    watchdog.arm(deadline)
    failures: list[str] = []
    ctx: HookContext | None = None
    try:
        payload = parse_payload(read_stdin(timeout=max(0.1, min(3.0, deadline - started - 0.5))))
        event = _resolve_event(argv_event, payload)
        warn_wrong_types(event, payload)
        project = watchdog.project = project_dir(payload)
        settings = load_settings(project)
        deadline = started + _budget_seconds(event, settings)
        watchdog.arm(deadline)
        ctx = HookContext(event, payload, project, settings, deadline)
        failures += _run_handlers(ctx)
        if ctx.context and event == "SessionStart":
            emit_context(event, "\n\n".join(ctx.context))
    except Exception as exc:  # payload, settings: nothing ran, say why
        failures.append(f"{type(exc).__name__}: {exc}")
        log.log("ERROR", argv_event or "?", failures[-1])
    finally:
        if ctx is not None:
            try:
                ctx.close()
            except Exception as exc:
                failures.append(f"closing the archive: {exc}")
        log.record_health(project, argv_event or "?", "; ".join(failures) or None,
                          proven=ctx is not None and ctx.used_archive)
        watchdog.cancel()
        if os.environ.get("SESSION_CORE_DEBUG"):
            log.log("DEBUG", argv_event or "?", f"done in {time.monotonic() - started:.3f} s")


def main(argv: list[str] | None = None) -> int:
    """Entry point of every hook script; the exit code is 0 whatever happens."""
    started = time.monotonic()
    try:
        restrict_umask(PRIVATE)
        run(sys.argv[1:] if argv is None else argv, started)
    except BaseException as exc:  # the contract is exit 0, always
        log.log("ERROR", "hook", f"unexpected {type(exc).__name__}: {exc}")
    return 0
