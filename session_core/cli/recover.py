"""``session-core recover``: an archive that passes ``verify``, with nothing lost that still
exists anywhere.

The sources, oldest to newest, each adding only what the result lacks or holds less of:
the backups (the newest verified one becomes the base, older ones add what it lacks, such as
sessions retention would have rotated away), the archives quarantined earlier, the damaged
archive itself (salvaged: only frames whose checksum holds, contiguous from byte 0), then
every transcript Claude Code still has. Nothing is deleted: a damaged archive is moved to
``quarantine/<time>/`` first, and a healthy one is backed up first. The report says what came
from where and exactly what could not be recovered.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from ..base import locations
from ..base.errors import DatabaseError, NotFoundError, UsageError
from ..base.fs import fsync_dir
from ..base.settings import Settings, load_settings
from ..base.sqlite_driver import sqlite3
from ..hook.log import clear_recover_pending
from ..store import files, sessions
from ..store.archive import open_archive
from ..store.backup import BackupInfo, backup_database, list_backups, restore_backup
from ..store.quarantine import Quarantined, mark_merged, move_aside, quarantined
from ..store.salvage import Salvage
from ..store.verify import HEALTHY, MISSING, check_file
from ..transcript import layout
from ..transcript.forget import reapply
from ..transcript.merge import MergeResult, carry_checkpoints, held_bytes, merge_archive
from .backfill import ingest_paths

Source = tuple[str, str]
"""(what it is, for the report; the database file to read)."""


@dataclass
class Plan:
    project: str
    archive: str
    state: str
    problems: list[str]
    base: BackupInfo | None
    sources: list[Source]
    transcripts: list[Path]
    unusable: list[BackupInfo]
    pending: list[Quarantined]

    @property
    def moves_aside(self) -> bool:
        return self.state not in (HEALTHY, MISSING)


@dataclass
class Outcome:
    quarantined_to: str | None = None
    before_backup: str | None = None
    taken: list[tuple[str, MergeResult]] = field(default_factory=list)
    transcripts: int = 0
    transcript_bytes: int = 0
    lost_files: list[tuple[str, str, int, int]] = field(default_factory=list)
    """(session, path, bytes kept, bytes known) of every file kept short of what was known."""
    lost_sessions: list[str] = field(default_factory=list)
    lost_rows: list[str] = field(default_factory=list)
    """Checkpoints some source held that the result lacks, and why."""
    problems: list[str] = field(default_factory=list)
    sessions: int = 0
    verified: list[str] = field(default_factory=list)


def make_plan(project: str, settings: Settings, from_backup: str | None) -> Plan:
    archive = locations.archive_path(project)
    report = check_file(archive)  # the full check: quick_check misses damage recover must see
    if report.state == HEALTHY:  # a damaged index alone: rebuilt from the frames, via salvage
        from ..transcript.recheck import index_findings, settings_of_index

        derive = settings_of_index(archive, settings)
        for finding in index_findings(archive, derive) if derive is not None else []:
            report.add(finding)
    backups = list_backups(archive, settings)
    usable = [b for b in backups if b.usable]
    if from_backup is not None and report.state == HEALTHY:
        raise UsageError("the archive is healthy: --from starts a damaged or missing one from a"
                         " backup", "run 'session-core recover' without --from: it adds what"
                         " every backup holds to the healthy archive")
    if from_backup is not None:
        chosen = [b for b in backups if b.path == os.path.abspath(from_backup)
                  or os.path.basename(b.path) == os.path.basename(from_backup)]
        if not chosen:
            raise NotFoundError(f"no backup {from_backup} in {os.path.dirname(backups[0].path)}"
                                if backups else f"no backup {from_backup}: there are none",
                                "run 'session-core backups' to list them")
        base: BackupInfo | None = chosen[0]
        if not chosen[0].usable:
            raise DatabaseError(f"backup {chosen[0].path} failed its check: {chosen[0].problem}",
                                "run 'session-core recover' without --from: it picks the newest"
                                " verified backup")
    else:
        base = usable[0] if usable else None
    pending = [item for item in quarantined(os.path.dirname(archive)) if not item.merged]
    sources: list[Source] = []
    if report.state == HEALTHY or base is None:
        older = usable
    else:
        older = [b for b in usable if b.path != base.path]
    sources += [(f"backup {os.path.basename(b.path)}", b.path) for b in reversed(older)]
    sources += [(f"quarantined {item.folder}", item.database) for item in pending]
    folder = layout.project_folder(project, layout.projects_dir(settings.claude_config_dir))
    transcripts = [Path(path) for path in layout.folder_files(folder)]
    return Plan(project, archive, report.state, [f.render() for f in report.findings],
                base if report.state != HEALTHY else None, sources, transcripts,
                [b for b in backups if not b.usable], pending)


def run(plan: Plan, settings: Settings) -> Outcome:
    outcome = Outcome()
    work = os.path.join(os.path.dirname(plan.archive), f".recover-{os.getpid()}")
    try:
        _run(plan, settings, outcome, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return outcome


def _run(plan: Plan, settings: Settings, outcome: Outcome, work: str) -> None:
    archive_dir = os.path.dirname(plan.archive)
    os.makedirs(work, mode=0o700, exist_ok=True)
    sources = list(plan.sources)
    if plan.state == HEALTHY:
        with open_archive(plan.project, settings) as healthy:
            outcome.before_backup = backup_database(healthy.db, label="pre-recover",
                                                    settings=settings)
    elif plan.moves_aside:
        staged = os.path.join(work, "base.db")
        if plan.base is not None:  # staged first: the archive is missing for a moment only
            restore_backup(plan.base.path, staged)
        outcome.quarantined_to = move_aside(plan.archive, f"recover: {plan.state}")
        if outcome.quarantined_to is not None:
            moved = os.path.join(outcome.quarantined_to, locations.ARCHIVE_NAME)
            sources.append((f"the damaged archive (now in {outcome.quarantined_to})", moved))
        if plan.base is not None:
            os.replace(staged, plan.archive)
            fsync_dir(archive_dir)
    elif plan.base is not None:  # missing: a -wal left of the old one must not replay on it
        outcome.quarantined_to = move_aside(plan.archive, "recover: left beside a missing archive")
        restore_backup(plan.base.path, plan.archive)
    with open_archive(plan.project, settings) as archive:
        reapply(archive.db, settings)  # the base is a backup: it may predate a forget
        for label, path in sources:
            with Salvage(path, os.path.join(work, "salvage")) as salvage:
                outcome.taken.append((label, merge_archive(archive.db, salvage, settings,
                                                           work)))
        summary = ingest_paths(archive, plan.transcripts)
        outcome.transcripts, outcome.transcript_bytes = summary.files, summary.new_bytes
        outcome.problems += summary.failures
        # Checkpoints of files only the transcripts on disk held: placed now, or lost.
        left = carry_checkpoints(archive.db, [item for _, result in outcome.taken
                                              for item in result.pending])
        archive.db.release_free_pages()
        _account(archive.db.conn, outcome)
        _account_rows(archive.db.conn, outcome, [(item.checkpoint.name, item.lost())
                                                 for item in left])
        outcome.sessions = files.count_sessions(archive.db.conn)
    for item in quarantined(archive_dir):
        if not item.merged and any(path == item.database for _, path in sources):
            mark_merged(item)
    final = check_file(plan.archive)
    outcome.verified = [finding.render() for finding in final.findings]
    if not outcome.verified:
        clear_recover_pending(plan.project)


def _account(conn: sqlite3.Connection, outcome: Outcome) -> None:
    """What some source knew that the result holds less of: that much is lost."""
    known: dict[str, tuple[str, int]] = {}
    for _, result in outcome.taken:
        for path, (uuid, size) in result.known.items():
            if size > known.get(path, (uuid, -1))[1]:
                known[path] = (uuid, size)
    for path, (uuid, size) in sorted(known.items()):
        held = held_bytes(conn, path)
        if held < size:
            outcome.lost_files.append((uuid, path, held, size))
    present = {row.uuid for row in sessions.with_files(conn)}
    outcome.lost_sessions = sorted({uuid for uuid, *_ in outcome.lost_files} - present)


def _account_rows(conn: sqlite3.Connection, outcome: Outcome,
                  left: list[tuple[str | None, str]]) -> None:
    """The checkpoints no source could carry (one line each, though several sources held it):
    lost, unless another source's copy of it made it into the result."""
    from ..store import checkpoints

    seen: set[str] = set()
    for name, what in [*left, *(row for _, result in outcome.taken for row in result.lost_rows)]:
        if name is not None and (name in seen or checkpoints.by_name(conn, name) is not None):
            continue
        if name is not None:
            seen.add(name)
        outcome.lost_rows.append(what)


def render_plan(plan: Plan, dry_run: bool) -> str:
    lines = [f"Archive      {plan.archive}: {plan.state}"]
    lines += [f"             {problem}" for problem in plan.problems[:10]]
    if plan.moves_aside:
        lines.append(f"{'Would move' if dry_run else 'Moving'} it aside to"
                     f" {locations.QUARANTINE_DIR}/<time>/ (nothing is deleted)")
    elif plan.state == HEALTHY:
        lines.append(f"{'Would back' if dry_run else 'Backing'} it up first, then add to it")
    if plan.base is not None:
        lines.append(f"Base         backup {os.path.basename(plan.base.path)}"
                     f" ({plan.base.sessions} sessions)")
    elif plan.state != HEALTHY:
        lines.append("Base         a new empty archive (no verified backup)")
    lines += [f"Then         {label}" for label, _ in plan.sources]
    if plan.moves_aside:
        lines.append("Then         what is still readable in the damaged archive")
    lines.append(f"Then         {len(plan.transcripts)} transcript file(s) Claude Code still has")
    lines += [f"Skipped      backup {os.path.basename(b.path)}: {b.problem}"
              for b in plan.unusable]
    return "\n".join(lines)


def render_outcome(plan: Plan, outcome: Outcome) -> str:
    lines = []
    if outcome.quarantined_to:
        lines.append(f"Moved aside  {outcome.quarantined_to}")
    if outcome.before_backup:
        lines.append(f"Backed up    {outcome.before_backup}")
    if plan.base is not None:
        lines.append(f"Restored     backup {os.path.basename(plan.base.path)}"
                     f" ({plan.base.sessions} sessions)")
    for label, result in outcome.taken:
        carried = [f"{n} {what}" for n, what in ((result.checkpoints, "checkpoint(s)"),
                                                  (result.links, "branch link(s)"),
                                                  (result.marks, "cleanup mark(s)")) if n]
        lines.append(f"From {label}: {result.taken_files} file(s), {result.taken_bytes:,}"
                     f" bytes, {result.turns} chat turn(s)"
                     + "".join(f", {part}" for part in carried))
        lines += [f"  unreadable: {problem}" for problem in result.problems[:10]]
    lines.append(f"From disk: {outcome.transcripts} transcript file(s),"
                 f" {outcome.transcript_bytes:,} new bytes")
    lines += [f"  skipped: {problem}" for problem in outcome.problems]
    lines.append(f"Archive      {plan.archive}: {outcome.sessions} session(s)")
    if outcome.lost_files:
        lines.append(f"Lost         {len(outcome.lost_files)} file(s) could not be recovered"
                     " whole (the damaged copy is kept in quarantine):")
        lines += [f"  {uuid}  {path}: {held:,} of {size:,} bytes"
                  for uuid, path, held, size in outcome.lost_files]
    if outcome.lost_rows:
        lines.append(f"Lost         {len(outcome.lost_rows)} checkpoint(s) could not be"
                     " carried (the damaged copy is kept in quarantine):")
        lines += [f"  {what}" for what in outcome.lost_rows]
    if not outcome.lost_files and not outcome.lost_rows:
        if any(result.problems for _, result in outcome.taken):
            lines.append("Lost         nothing that the readable parts of the sources held; the"
                         " unreadable parts named above may have held more (kept in"
                         " quarantine)")
        else:
            lines.append("Lost         nothing that any source held")
    if outcome.lost_sessions:
        lines.append(f"             sessions with nothing recovered: "
                     f"{', '.join(outcome.lost_sessions)}")
    lines += [f"Verify       {finding}" for finding in outcome.verified] or \
        ["Verify       ok"]
    return "\n".join(lines)


def recover(project: str | None, from_backup: str | None, dry_run: bool) -> tuple[str, bool]:
    """The report, and whether the result verified."""
    root = locations.project_root(project)
    settings = load_settings(root)
    plan = make_plan(root, settings, from_backup)
    if dry_run:
        return render_plan(plan, dry_run=True) + "\n(dry run: nothing was changed)", True
    outcome = run(plan, settings)
    return render_plan(plan, dry_run=False) + "\n\n" + render_outcome(plan, outcome), \
        not outcome.verified
