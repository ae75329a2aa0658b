"""The ``session-core`` command. Errors become ``Error: ...`` / ``Try: ...`` and an exit code here,
and only here."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from . import __version__, paths
from .archive import Archive, open_archive
from .config import load_settings
from .errors import ExitCode, InputError, NotFoundError, SessionCoreError
from .export import export_session, restore_session
from .importer import (
    ImportSummary,
    claude_projects_dir,
    folder_cwd,
    folder_files,
    ingest_paths,
    project_transcripts,
)
from .progress import ProgressBar
from .queries import list_sessions, search, session_summary
from .report import render_session, render_sessions, render_status, status_data
from .sources import check_transcript_path


def _print_import(summary: ImportSummary, where: str) -> None:
    for warning in summary.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for failure in summary.failures:
        print(f"skipped: {failure}", file=sys.stderr)
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
        ok = _import_into(archive, [Path(p) for p in args.paths], strict=True)
    elif args.all:
        return _import_all(archive, args)
    else:
        files = project_transcripts(archive)
        if not files:
            print(f"No transcripts for {archive.project} under {claude_projects_dir(archive)}.")
            return 0
        ok = _import_into(archive, files)
    return ExitCode.OK if ok else ExitCode.FAILURE


def _import_all(archive: Archive, args: argparse.Namespace) -> int:
    root = claude_projects_dir(archive)
    failed = False
    for folder in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        cwd = folder_cwd(folder)
        if cwd is None or not cwd.is_dir():
            print(f"skipped {folder.name}: its project directory {cwd} no longer exists",
                  file=sys.stderr)
            continue
        target = archive if str(cwd) == archive.project else open_archive(cwd)
        try:
            failed = not _import_into(target, folder_files(folder)) or failed
        finally:
            if target is not archive:
                target.close()
    return ExitCode.FAILURE if failed else ExitCode.OK


def cmd_list(archive: Archive, args: argparse.Namespace) -> int:
    with archive.db.read() as conn:
        sessions = list_sessions(conn)
    if args.json:
        print(json.dumps([s.as_dict() for s in sessions], indent=2))
    else:
        print(render_sessions(sessions))
    return 0


def cmd_show(archive: Archive, args: argparse.Namespace) -> int:
    with archive.db.read() as conn:
        summary = session_summary(conn, args.session)
        if args.json:
            print(json.dumps(summary.as_dict(), indent=2))
        else:
            print(render_session(conn, summary, args.limit))
    return 0


def cmd_export(archive: Archive, args: argparse.Namespace) -> int:
    with archive.db.read() as conn:
        if args.output:  # a temporary file first: a failed export never clobbers the target
            target = Path(args.output)
            temp = target.with_name(f".{target.name}.session-core-tmp")
            try:
                with open(temp, "wb") as out:
                    export_session(conn, args.session, out)
                os.replace(temp, target)
            finally:
                temp.unlink(missing_ok=True)
        else:
            export_session(conn, args.session, sys.stdout.buffer)
            sys.stdout.buffer.flush()
    return 0


def cmd_restore(archive: Archive, args: argparse.Namespace) -> int:
    folder = Path(args.to) if args.to else Path(paths.find_project_folder(
        archive.project, claude_projects_dir(archive)))
    with archive.db.read() as conn:
        results = restore_session(conn, args.session, folder)
    for result in results:
        print(f"{result.action:9} {result.path}")
    return 0


def cmd_status(archive: Archive, args: argparse.Namespace) -> int:
    with archive.db.read() as conn:
        data = status_data(archive, conn)
    print(json.dumps(data, indent=2) if args.json else render_status(data))
    return 0


def cmd_search(archive: Archive, args: argparse.Namespace) -> int:
    with archive.db.read() as conn:
        for session, role, kind, ts in search(conn, args.query, args.limit):
            print(f"{ts or '-':24}  {session}  {role}/{kind}")
    return 0


def cmd_verify(archive: Archive, args: argparse.Namespace) -> int:
    from .verify import verify_archive

    problems = verify_archive(archive)
    for problem in problems:
        print(problem)
    if problems:
        return ExitCode.BAD_DATABASE
    print(f"ok: {archive.db.path} passed integrity_check and every frame checksum")
    return 0


def cmd_backup(archive: Archive, args: argparse.Namespace) -> int:
    from .backup import backup_database

    print(backup_database(archive.db))
    return 0


def _count(text: str) -> int:
    value = int(text) if text.isdigit() else -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return value


READ_ONLY = frozenset({"list", "show", "export", "restore", "status", "search", "verify"})


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="session-core",
        description="Keep every Claude Code session of a project, losslessly, in SQLite.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--project", metavar="DIR", help="project directory (default: cwd)")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, func: Callable[[Archive, argparse.Namespace], int], text: str
            ) -> argparse.ArgumentParser:
        command = sub.add_parser(name, parents=[common], help=text, description=text)
        command.set_defaults(func=func)
        return command

    imp = add("import", cmd_import, "archive transcripts (default: all Claude Code keeps for"
              " the project)")
    imp.add_argument("paths", nargs="*", help="transcript files to archive instead")
    imp.add_argument("--all", action="store_true", help="every project Claude Code knows")
    lst = add("list", cmd_list, "list archived sessions, newest first")
    lst.add_argument("--json", action="store_true")
    show = add("show", cmd_show, "show one session: metadata and its conversation")
    show.add_argument("session", help="session id or unique prefix")
    show.add_argument("--json", action="store_true", help="metadata only, as JSON")
    show.add_argument("--limit", type=_count, default=50, help="messages to show (0: all)")
    exp = add("export", cmd_export, "write a session's original transcript")
    exp.add_argument("session")
    exp.add_argument("--format", choices=["jsonl"], default="jsonl")
    exp.add_argument("-o", "--output", help="file to write (default: stdout)")
    res = add("restore", cmd_restore, "put a session's files back where Claude Code looks")
    res.add_argument("session")
    res.add_argument("--to", metavar="DIR", help="folder to restore into")
    st = add("status", cmd_status, "archive path, size, counts, last ingest, schema")
    st.add_argument("--json", action="store_true")
    se = add("search", cmd_search, "full-text search of prompts, replies and tool use")
    se.add_argument("query")
    se.add_argument("--limit", type=_count, default=20)
    add("verify", cmd_verify, "check the database and every compressed frame")
    add("backup", cmd_backup, "write a verified backup beside the archive")
    return parser


def _require_archive(project: str | None) -> None:
    """Reading commands never create an archive (a typo in --project would litter one)."""
    root = paths.project_root(project)
    load_settings(root)  # a settings mistake is the first thing to report
    where = paths.archive_path(root)
    if not os.path.exists(where):
        raise NotFoundError(f"no archive at {where}",
                            "run 'session-core import' in the project first, or fix --project")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "import" and args.paths:
            if args.all:
                raise InputError("--all and transcript paths exclude each other", "use one")
            for path in args.paths:  # refuse before the archive is even created
                check_transcript_path(path)
        if args.command in READ_ONLY:
            _require_archive(args.project)
        with open_archive(args.project) as archive:
            return int(args.func(archive, args))
    except SessionCoreError as exc:
        print(exc.render(), file=sys.stderr)
        return int(exc.exit_code)
    except BrokenPipeError:
        return 0
    except OSError as exc:  # e.g. an --output path that cannot be written
        print(f"Error: {exc}\nTry: check the path and its permissions", file=sys.stderr)
        return int(ExitCode.FAILURE)
    except KeyboardInterrupt:
        print("Error: interrupted", file=sys.stderr)
        return 130
