"""``session-core watch [--all]``: archive transcripts while Claude Code writes them, until
Ctrl-C (or SIGTERM), without waiting for a hook.

A watchdog observer (inotify, FSEvents, ReadDirectoryChangesW, or polling) reports changes
in Claude Code's folder of the project (``--all``: in its ``projects/`` folder, each project
into its own archive) on its own thread; this thread debounces them (``transcript.follow``)
and ingests each file that is due, owning every connection. The files Claude Code keeps are
ingested once at the start, so what changed while nothing watched is archived too. A signal
only asks the loop to stop: an ingest under way finishes (it is one transaction either way),
then the command exits 0; a second Ctrl-C interrupts at once. On a terminal each ingest prints
a line.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from types import FrameType

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from ..base.errors import (
    BusyError,
    DamagedError,
    ExitCode,
    InputError,
    NotFoundError,
    SessionCoreError,
)
from ..store.archive import Archive
from ..transcript import layout
from ..transcript.follow import Debounce
from ..transcript.ingest import IngestReport, ingest_file
from .upgrade import open_for_command

BUSY_RETRY_S = 2.0
"""A file whose archive was locked past the busy timeout is tried again this much later."""
RECHECK_S = 2.0
"""How often the loop checks that the folder it watches still exists."""
CHANGES = frozenset({"created", "modified", "moved", "closed"})


class _Changes(FileSystemEventHandler):
    """On the observer's thread: every change to a file we follow goes into the debounce."""

    def __init__(self, watcher: Watcher) -> None:
        self.watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in CHANGES and event.event_type != "deleted":
            return
        paths = [os.fsdecode(event.src_path)]
        if event.event_type == "moved":  # a rotation: the old name is gone, the new one is new
            paths = [os.fsdecode(event.dest_path)]
            self.watcher.gone(os.fsdecode(event.src_path))
        for path in paths:
            if event.is_directory:
                if event.event_type in ("created", "moved"):
                    self.watcher.scan(path)  # files that were in it before we could see them
            elif event.event_type == "deleted":
                self.watcher.gone(path)
            else:
                self.watcher.changed(path)


class Watcher:
    """The debounce, the stop flag and the archives, and the loop that ingests."""

    def __init__(self, archive: Archive, every_project: bool) -> None:
        self.archive, self.every_project = archive, every_project
        self.root = layout.projects_dir(archive.settings.claude_config_dir)
        self.folder = layout.project_folder(archive.project, self.root)
        self.wake = threading.Condition()
        self.debounce = Debounce()
        self.stopping = False
        self.archives: dict[str, Archive | None] = {}
        """Project folder -> the archive its files go into (None: its project is gone)."""
        self.deleted: list[str] = []
        self.on_terminal = sys.stdout.isatty()
        self.observer = Observer()
        self.watched = self.root if every_project or not os.path.isdir(self.folder) \
            else self.folder

    @property
    def waiting(self) -> bool:
        """The project's folder does not exist (yet, or any more): ``projects/`` is watched,
        itself only, for it to appear; no other project's files are looked at."""
        return not self.every_project and self.watched == self.root

    def watch(self) -> None:
        """Start the observer on the folder (or on ``projects/`` alone, until it exists)."""
        self.observer.schedule(_Changes(self), self.watched, recursive=not self.waiting)
        if not self.observer.is_alive():
            self.observer.start()

    def _rewatch(self, folder: str) -> None:
        self.observer.unschedule_all()
        self.watched = folder
        self.watch()

    def _keep_watching(self) -> None:
        """The project's folder deleted (``claude project purge``, say): wait for it to come
        back, rather than watch nothing; once it is there, watch it, and what is in it."""
        if self.every_project or not os.path.isdir(self.root):
            return
        if self.waiting and os.path.isdir(self.folder):
            print(f"{self.folder} is there now; watching it", file=sys.stderr, flush=True)
            self._rewatch(self.folder)
            self.scan(self.folder)  # what was written before the observer saw the folder
        elif not self.waiting and not os.path.isdir(self.watched):
            print(f"{self.watched} is gone; waiting in {self.root} for it to come back",
                  file=sys.stderr, flush=True)
            self._rewatch(self.root)

    # --- the observer's side ------------------------------------------------------------------

    def _folder_of(self, path: str) -> str | None:
        """The project folder ``path`` belongs to, if it is a file we follow."""
        if self.every_project:
            rel = os.path.relpath(path, self.root).split(os.sep)
            folder = os.path.join(self.root, rel[0]) if rel[0] not in (os.curdir,
                                                                        os.pardir) else None
        else:
            folder = self.folder
        return folder if folder is not None and layout.is_kept_file(folder, path) else None

    def changed(self, path: str, delay: float = 0.0) -> None:
        if self._folder_of(path) is None:
            return
        with self.wake:
            self.debounce.touch(path, time.monotonic() + delay)
            self.wake.notify()

    def gone(self, path: str) -> None:
        if self._folder_of(path) is None:
            return
        with self.wake:
            self.debounce.pending.pop(path, None)
            self.deleted.append(path)
            self.wake.notify()

    def scan(self, folder: str) -> None:
        """Every file in ``folder`` and below, as if each had just changed (not another
        project's folder appearing in ``projects/`` while this one is waited for)."""
        if not self.every_project and os.path.relpath(folder, self.folder).startswith(
                os.pardir):
            return
        for top, _, names in os.walk(folder):
            for name in names:
                self.changed(os.path.join(top, name))

    def stop(self, signum: int, frame: FrameType | None) -> None:
        """A signal handler: asks the loop to stop; the next Ctrl-C is Python's again."""
        signal.signal(signal.SIGINT, signal.default_int_handler)
        with self.wake:
            self.stopping = True
            self.wake.notify()

    # --- this thread's side -------------------------------------------------------------------

    def run(self) -> None:
        while True:
            with self.wake:
                if not self.stopping and not self.deleted and not self._due_now():
                    nxt = self.debounce.next_due()
                    self.wake.wait(RECHECK_S if nxt is None else
                                   min(RECHECK_S, max(0.0, nxt - time.monotonic())))
                if self.stopping:
                    return
                due = self.debounce.take_due(time.monotonic())
                deleted, self.deleted = self.deleted, []
            self._keep_watching()  # not under the lock: the observer's thread takes it
            for path in deleted:
                self._say(path, "deleted; the archive keeps its copy")
            for path in due:
                if self.stopping:  # asked between two files: the rest waits for the next run
                    return
                self._ingest(path)

    def _due_now(self) -> bool:
        nxt = self.debounce.next_due()
        return nxt is not None and nxt <= time.monotonic()

    def _ingest(self, path: str) -> None:
        target = self._archive_of(path)
        if target is None:
            return
        try:
            report = ingest_file(target.db, path, target.settings)
        except InputError:  # gone meanwhile (deletion, rotation), or not a transcript
            return
        except BusyError as exc:
            print(f"warning: {exc.message}; trying {path} again shortly", file=sys.stderr)
            self.changed(path, BUSY_RETRY_S)
            return
        except DamagedError:
            raise  # every further save would fail too: stop, and say 'recover'
        except SessionCoreError as exc:  # a full disk, say: the next change tries again
            print(f"warning: {path}: {exc.message}", file=sys.stderr)
            return
        self._report(report)

    def _report(self, report: IngestReport) -> None:
        if not (report.new_bytes or report.rewritten):
            return
        what = f"+{report.new_entries:,} message(s), {report.new_bytes:,} bytes"
        if report.rewritten:
            what += " (rewritten or truncated: a new generation)"
        self._say(report.path, what)

    def _say(self, path: str, what: str) -> None:
        if self.on_terminal:
            rel = os.path.relpath(path, self.root if self.every_project else self.folder)
            print(f"{time.strftime('%H:%M:%S')}  {rel}  {what}", flush=True)

    def _archive_of(self, path: str) -> Archive | None:
        folder = self._folder_of(path)
        if folder is None:
            return None
        if not self.every_project or folder == self.folder:
            return self.archive
        if folder in self.archives:
            return self.archives[folder]
        cwd = layout.folder_cwd(folder)
        if cwd is None:  # no record names its project yet: the next change asks again
            return None
        target: Archive | None = None
        if os.path.realpath(cwd) == os.path.realpath(self.archive.project):
            target = self.archive
        elif os.path.isdir(cwd):
            target = open_for_command(cwd)
        else:
            print(f"skipped {os.path.basename(folder)}: its project directory {cwd} no longer"
                  " exists", file=sys.stderr)
        self.archives[folder] = target
        return target

    def close(self) -> None:
        for target in self.archives.values():
            if target is not None and target is not self.archive:
                target.close()


def cmd_watch(archive: Archive, args: argparse.Namespace) -> int:
    watcher = Watcher(archive, args.all)
    watched = watcher.watched
    if not os.path.isdir(watched):
        raise NotFoundError(f"Claude Code has no projects folder at {watcher.root}",
                            "run Claude Code once, or set claude_config_dir to where it keeps"
                            " its data")
    previous = {sig: signal.signal(sig, watcher.stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        watcher.watch()
    except OSError as exc:  # inotify's limits: watches per user, instances
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        raise SessionCoreError(f"cannot watch {watched}: {exc}",
                               "raise fs.inotify.max_user_watches (sysctl), or watch one"
                               " project instead of --all") from exc
    try:
        if watcher.waiting:
            print(f"Claude Code has no folder for {archive.project} yet; waiting for"
                  f" {watcher.folder} to appear (Ctrl-C stops).", file=sys.stderr, flush=True)
        else:
            print(f"Watching {watched} (Ctrl-C stops).", file=sys.stderr, flush=True)
        for folder in ([os.path.join(watched, n) for n in sorted(os.listdir(watched))]
                       if args.all else [watcher.folder]):
            for path in layout.folder_files(folder):  # what changed while nothing watched
                watcher.changed(path)
        watcher.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        watcher.observer.stop()
        watcher.observer.join()
        watcher.close()
    print("Stopped watching.", file=sys.stderr)
    return ExitCode.OK
