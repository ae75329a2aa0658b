"""The archive commands: each takes the opened archive and the parsed arguments, prints, and
returns an exit code. Errors are raised, never printed here (``cli.main`` renders them)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ..base.errors import ExitCode, UsageError
from ..base.fs import AtomicFile
from ..handoff.redact import redact
from ..store.archive import Archive
from ..store.summary import list_sessions, session_summary
from ..transcript import layout
from .backfill import (
    ImportSummary,
    claude_projects_dir,
    folder_cwd,
    folder_files,
    ingest_paths,
    project_transcripts,
)
from .export import check_output_target, export_session, restore_session
from .progress import ProgressBar
from .render import render_session, render_sessions, render_status, status_data
from .search import utc_day
from .upgrade import open_for_command


def _print_import(summary: ImportSummary, where: str) -> None:
    for warning in summary.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for failure in summary.failures:
        print(f"skipped: {failure}", file=sys.stderr)
    for uuid in sorted(summary.forgotten):
        print(f"skipped: session {uuid} was forgotten (its tombstone keeps it out;"
              f" 'session-core forget --undo {uuid}' lifts it)", file=sys.stderr)
    if summary.cleaned:
        print(f"skipped: {len(summary.cleaned)} session(s) 'session-core cleanup' removed, their"
              " transcripts unchanged since ('session-core import FILE' takes one back)",
              file=sys.stderr)
    if summary.files and not summary.new_bytes and not summary.new_entries:
        print(f"Nothing new: {summary.files} file(s) already archived in {where}.")
        return
    print(f"Imported {summary.files} file(s) into {where}: {summary.new_bytes:,} new bytes,"
          f" {summary.new_entries:,} new messages.")


def _import_into(archive: Archive, files: list[Path], strict: bool = False) -> bool:
    """Ingest, hand freed pages back, report; True if every file made it."""
    summary = ingest_paths(archive, files, ProgressBar(), strict=strict)
    archive.db.release_free_pages()
    _print_import(summary, archive.db.path)
    return not summary.failures


def cmd_import(archive: Archive, args: argparse.Namespace) -> int:
    if args.paths:
        from ..transcript.cleanup import take_back

        with archive.db.write() as conn:  # named by hand: what cleanup removed comes back
            take_back(conn, args.paths)
        ok = _import_into(archive, [Path(p) for p in args.paths], strict=True)
    elif args.all:
        return _import_all(archive)
    else:
        files = project_transcripts(archive)
        if not files:
            print(f"No transcripts for {archive.project} under {claude_projects_dir(archive)}.")
            return ExitCode.OK
        ok = _import_into(archive, files)
    return ExitCode.OK if ok else ExitCode.FAILURE


def _import_all(archive: Archive) -> int:
    root = claude_projects_dir(archive)
    failed = False
    for folder in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        cwd = folder_cwd(folder)
        if cwd is None or not cwd.is_dir():
            print(f"skipped {folder.name}: its project directory {cwd} no longer exists",
                  file=sys.stderr)
            continue
        target = archive if str(cwd) == archive.project else open_for_command(cwd)
        try:
            failed = not _import_into(target, folder_files(folder)) or failed
        finally:
            if target is not archive:
                target.close()
    return ExitCode.FAILURE if failed else ExitCode.OK


def cmd_list(archive: Archive, args: argparse.Namespace) -> int:
    since = utc_day(args.since, "since")
    with archive.db.read() as conn:
        sessions, matched = list_sessions(conn, since, args.branch, args.limit)
    for listed in sessions:  # a title is a first prompt: it may hold a pasted key
        listed.title = redact(listed.title) if listed.title else listed.title
    if args.json:
        print(json.dumps([s.as_dict() for s in sessions], indent=2))
    elif not sessions and (args.since or args.branch):
        print("No session matches --since/--branch.")
    else:
        print(render_sessions(sessions))
        if matched > len(sessions):
            print(f"({matched - len(sessions):,} older session(s) not shown: --limit 0 lists"
                  " them all)")
    return ExitCode.OK


def cmd_show(archive: Archive, args: argparse.Namespace) -> int:
    with archive.db.read() as conn:
        summary = session_summary(conn, args.session)
        summary.title = redact(summary.title) if summary.title else summary.title
        from .branch import link_data, link_lines  # where it came from, what was made of it

        if args.json:
            print(json.dumps({**summary.as_dict(), **link_data(conn, summary.uuid)}, indent=2))
            return ExitCode.OK
        if args.limit and args.tail:
            raise UsageError("--limit and --tail exclude each other", "use one")
        text = render_session(conn, summary, args.limit, args.tail)
        links = link_lines(conn, summary.uuid)
    if links:  # after the head (its first blank line), before the conversation
        head, _, rest = text.partition("\n\n")
        text = "\n".join([head, *links]) + "\n\n" + rest
    page(text)
    return ExitCode.OK


def page(text: str) -> None:
    """Through ``$PAGER`` (``less -R``) when a terminal shows more than a screen, else printed.
    A pager that cannot start is no reason to fail: the text is printed instead."""
    import shutil

    rows = shutil.get_terminal_size((80, 24)).lines
    if not sys.stdout.isatty() or text.count("\n") < rows - 1:
        print(text)
        return
    import shlex
    import subprocess

    command = shlex.split(os.environ.get("PAGER") or "less -R") or ["less", "-R"]
    try:
        subprocess.run(command, input=text + "\n", text=True, check=False,
                       env={**os.environ, "LESS": os.environ.get("LESS", "FRX")})
    except OSError:
        print(text)


def cmd_export(archive: Archive, args: argparse.Namespace) -> int:
    args.format = args.format or ("html" if args.all else "jsonl")
    if args.all or args.format != "jsonl":
        return _export_readable(archive, args)
    if args.session is None:
        raise UsageError("export needs a session", "give its id, or --all --format html -o DIR")
    with archive.db.read() as conn:
        if args.output:  # a temporary file first: a failed export never clobbers the target
            check_output_target(args.output)
            with AtomicFile(args.output) as out:
                written = export_session(conn, args.session, out)
            print(f"Wrote {args.output} ({written:,} bytes, as archived)", file=sys.stderr)
        else:
            if sys.stdout is None:  # started with stdout closed: nowhere to write
                raise UsageError("standard output is closed", "name a file with -o FILE")
            export_session(conn, args.session, sys.stdout.buffer)
            sys.stdout.buffer.flush()
    return ExitCode.OK


def _export_readable(archive: Archive, args: argparse.Namespace) -> int:
    """Markdown, HTML or JSON of one session, or (``--all``) the HTML site of every one."""
    from .export_formats import export_readable
    from .site import export_site

    redacting = not args.no_redact
    if not args.all:
        if args.session is None:
            raise UsageError("export needs a session", "give its id, or --all")
        with archive.db.read() as conn:
            export_readable(conn, args.session, args.format, args.output, redacting=redacting,
                            thinking=args.thinking)
        if args.output:
            print(f"Wrote {args.output}", file=sys.stderr)
        return ExitCode.OK
    if args.session is not None:
        raise UsageError("--all and a session exclude each other", "use one")
    if args.format != "html" or not args.output:
        raise UsageError("--all writes a static site: html, into -o DIR",
                         "session-core export --all -o DIR")
    with archive.db.read() as conn:
        pages = export_site(conn, args.output, archive.project, redacting=redacting,
                            thinking=args.thinking)
    print(f"Wrote {pages} session page(s) and {os.path.join(args.output, 'index.html')}")
    return ExitCode.OK


def cmd_restore(archive: Archive, args: argparse.Namespace) -> int:
    folder = Path(args.to) if args.to else Path(layout.project_folder(
        archive.project, claude_projects_dir(archive)))
    with archive.db.read() as conn:
        results = restore_session(conn, args.session, folder)
    for result in results:
        print(f"{result.action:9} {result.path}")
    return ExitCode.OK


def cmd_status(archive: Archive, args: argparse.Namespace) -> int:
    with archive.db.read() as conn:
        data = status_data(archive, conn)
    print(json.dumps(data, indent=2) if args.json else render_status(data))
    return ExitCode.OK


def cmd_backup(archive: Archive, args: argparse.Namespace) -> int:
    from ..store.backup import backup_database

    print(backup_database(archive.db, settings=archive.settings))
    return ExitCode.OK


def cmd_handoff(archive: Archive, args: argparse.Namespace) -> int:
    """What a new session would be handed now (Claude Code's UI never shows it)."""
    import time

    from ..handoff import notes
    from ..handoff.git import DirtyCheck, read_head
    from ..hook.live import saved_recently
    from ..store import sessions

    db, settings = archive.db, archive.settings
    chosen = sessions.resolve(db.conn, args.session) if args.session else None
    if args.source == "compact":
        session = chosen or notes.previous_session(db.conn, "")
        text = notes.compact_note(db, session.uuid, settings, archive.project) \
            if session else ""
    else:
        folder = os.path.dirname(db.path)
        choice = notes.choose(db, "", settings, chosen,
                              running=lambda uuid: saved_recently(folder, uuid))
        text = ""
        if choice is not None:
            check = DirtyCheck(archive.project) if read_head(archive.project) else None
            text = notes.previous_session_note(
                db, choice, settings, check, time.monotonic() + 4,
                saved_recently(os.path.dirname(db.path), choice.row.uuid), archive.project)
    if not text:
        print("(nothing: a new session would be handed no context)", file=sys.stderr)
        return ExitCode.OK
    print(text)
    return ExitCode.OK
