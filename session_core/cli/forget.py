"""``session-core forget SESSION``: a session out of the archive for good (it held a leaked
secret, say), after saying what goes and asking; ``--undo`` lifts the tombstone and archives the
session again from Claude Code's folder if it is still there."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..base.errors import ConflictError, ExitCode, NotFoundError
from ..base.text import clip
from ..handoff.redact import redact
from ..store import forgotten, sessions
from ..store.archive import Archive
from ..store.backup import backups_holding
from ..transcript import forget, layout
from .backfill import ingest_paths, project_transcripts
from .confirm import confirmed


def _describe(row: sessions.SessionRow) -> str:
    title = clip(redact(row.title or "(no prompt)"), 70, ellipsis=True)
    when = (row.last_ts or "")[:16].replace("T", " ")
    branch = f", {row.git_branch}" if row.git_branch else ""
    return f"{row.uuid}  {title}\n  last active {when} UTC{branch}"


def _chosen(archive: Archive, args: argparse.Namespace) -> list[sessions.SessionRow]:
    conn = archive.db.conn
    row = sessions.resolve(conn, args.session)  # a forgotten one: says so, and how to undo
    sharing = forget.sharing_sessions(conn, row)
    if sharing and not args.with_copies:
        raise ConflictError(
            f"messages of {row.uuid} are also in {len(sharing)} other session(s), a resume or"
            f" a fork: {', '.join(sharing)}; forgetting it alone would leave its text there",
            f"forget them together: session-core forget {args.session} --with-copies")
    return [row] + [r for r in map(lambda u: sessions.row_of(conn, u), sharing) if r]


def cmd_forget(archive: Archive, args: argparse.Namespace) -> int:
    if args.undo:
        return _undo(archive, args.session)
    db = archive.db
    rows = _chosen(archive, args)
    removal = forget.Removal(db.conn, rows)
    for row in rows:
        print(_describe(row))
    print(f"  {removal.entries:,} message(s), {len(removal.files)} file(s),"
          f" {removal.file_bytes:,} bytes")
    if not confirmed(args.yes, "forget", "Forget? It is deleted from the archive; a tombstone"
                     " keeps import and catch-up from bringing it back."):
        print("Nothing was forgotten.", file=sys.stderr)
        return ExitCode.FAILURE
    done = forget.forget(db, archive.settings, rows)
    ids = " ".join(u[:8] for u in done.uuids)
    print(f"Forgot {', '.join(done.uuids)}: {done.entries:,} message(s) and {len(done.files)}"
          f" file(s) ({done.file_bytes:,} bytes) deleted and overwritten. Import, catch-up and"
          f" restored backups leave it out; 'session-core forget --undo ID' lifts that ({ids}).")
    if not done.flushed:
        print("note: another process is reading the archive; its old pages leave the file"
              " at the next save")
    holding = backups_holding(db.path, done.uuids, archive.settings)
    if holding:
        print(f"note: {len(holding)} backup(s) made before still hold it ("
              f"{', '.join(Path(p).name for p in holding)} in {Path(holding[0]).parent});"
              " delete them to remove every copy. Backups made from now on do not hold it,"
              " and a restored one has it forgotten again")
    on_disk = [p for p in project_transcripts(archive)
               if layout.classify(str(p)).session_uuid in done.uuids]
    if on_disk:
        print(f"note: Claude Code still keeps its own copy ({len(on_disk)} file(s), e.g."
              f" {on_disk[0]}) until it deletes old transcripts; delete those files to remove"
              " it there too ('--undo' archives them again while they exist)")
    return ExitCode.OK


def _undo(archive: Archive, ref: str) -> int:
    found = forgotten.matching(archive.db.conn, ref)
    if not found:
        raise NotFoundError(f"no forgotten session '{ref}'", "give the id 'forget' printed")
    if len(found) > 1:
        raise NotFoundError(f"'{ref}' matches several forgotten sessions",
                            "give more of the session id")
    uuid = found[0][0]
    forget.undo(archive.db, uuid)
    again = [p for p in project_transcripts(archive)
             if layout.classify(str(p)).session_uuid == uuid]
    summary = ingest_paths(archive, again) if again else None
    print(f"Lifted the tombstone of {uuid}.")
    if summary is not None and summary.files:
        print(f"Archived it again from Claude Code's folder: {summary.files} file(s),"
              f" {summary.new_entries:,} message(s).")
    else:
        print("Claude Code no longer has its transcript; a backup made before 'forget' may"
              " ('session-core recover' merges backups).")
    return ExitCode.OK
