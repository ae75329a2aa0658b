"""The ``session-core`` command: the parser, and the one place where errors become
``Error: ...`` / ``Try: ...`` and an exit code."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from .. import __version__
from ..base import locations
from ..base.errors import RECOVER_HINT, ExitCode, NotFoundError, SessionCoreError, UsageError
from ..base.fs import OWNER_ONLY_WRITES, restrict_umask
from ..base.settings import load_settings
from ..store.archive import Archive
from ..store.backup import newest_stamp
from ..transcript.layout import check_named_transcript, project_folder, projects_dir
from .setup import options
from .upgrade import open_for_command

ArchiveCommand = Callable[[Archive, argparse.Namespace], int]


def command_of(func: str | Callable[..., int]) -> Callable[..., int]:
    """The function a parsed command names (the setup commands pass their own)."""
    if not isinstance(func, str):
        return func
    from importlib import import_module

    module, _, name = func.partition(".")
    found: Callable[..., int] = getattr(import_module(f"{__package__}.{module}"), name)
    return found

NEEDS_AN_ARCHIVE = frozenset({"list", "show", "export", "restore", "status", "search",
                              "backup", "handoff", "blame", "stats", "forget", "checkpoint",
                              "branch", "merge", "cleanup"})
"""Commands that read an existing archive and never create one (a typo in --project would
litter an empty archive): every command but ``import``, ``install`` and ``uninstall``."""


def _count(text: str) -> int:
    value = int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="session-core",
        description="Keep every Claude Code session of a project, losslessly, in SQLite.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--project", dest="global_project", metavar="DIR",
                        help="project directory, before the command or after it")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--project", metavar="DIR",
                        help="project directory (default: the nearest folder up, within the"
                             " repository, holding .claude/session-core/, else the current"
                             " directory)")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, func: str, text: str) -> argparse.ArgumentParser:
        """``func``: ``module.function`` of this package, imported only when the command runs:
        importing every command's modules cost each command ~70 ms of start-up."""
        command = sub.add_parser(name, parents=[common], help=text, description=text)
        command.set_defaults(func=func)
        return command

    imp = add("import", "commands.cmd_import", "archive transcripts (default: all Claude Code"
              " keeps for the project)")
    imp.add_argument("paths", nargs="*", help="transcript files to archive instead")
    imp.add_argument("--all", action="store_true", help="every project Claude Code knows")
    lst = add("list", "commands.cmd_list", "list archived sessions, newest first")
    lst.add_argument("--json", action="store_true")
    lst.add_argument("--since", metavar="DATE", help="only sessions active since this UTC date")
    lst.add_argument("--branch", help="only sessions on this git branch")
    lst.add_argument("--limit", type=_count, default=50,
                     help="the newest N sessions (default 50; 0: all)")
    show = add("show", "commands.cmd_show", "show one session: metadata and its conversation")
    show.add_argument("session", help="session id or unique prefix")
    show.add_argument("--json", action="store_true", help="metadata only, as JSON")
    show.add_argument("--limit", type=_count, default=0,
                      help="the first N messages only (default: all)")
    show.add_argument("--tail", type=_count, default=0, help="the last N messages only")
    exp = add("export", "commands.cmd_export", "write a session: its original transcript"
              " (jsonl, byte for byte), or to read: markdown, html (one self-contained page),"
              " json (documented in the README)")
    exp.add_argument("session", nargs="?", help="session id or unique prefix")
    exp.add_argument("--format", choices=["jsonl", "markdown", "html", "json"],
                     help="default: jsonl for one session, html for --all")
    exp.add_argument("-o", "--output", help="file to write (default: stdout); with --all, the"
                     " folder")
    exp.add_argument("--all", action="store_true", help="every session as a static site:"
                     " DIR/index.html and DIR/sessions/*.html (--format html -o DIR)")
    exp.add_argument("--no-redact", action="store_true", help="keep secrets in markdown, html"
                     " and json (jsonl is never redacted)")
    exp.add_argument("--thinking", action="store_true", help="include the model's thinking")
    res = add("restore", "commands.cmd_restore",
              "put a session's files back where Claude Code looks")
    res.add_argument("session")
    res.add_argument("--to", metavar="DIR", help="folder to restore into")
    st = add("status", "commands.cmd_status", "archive path, size, counts, last ingest, schema")
    st.add_argument("--json", action="store_true")
    se = add("search", "search.cmd_search", "ranked full-text search of prompts, replies and"
             " tool use, grouped by session, with snippets")
    se.add_argument("query", help="words, \"a phrase\", prefix*, a path or a dotted name as typed;"
                    " AND, OR, NOT")
    se.add_argument("--limit", type=_count, default=20, help="hits at most (default 20)")
    se.add_argument("--session", metavar="ID", help="only this session (id or unique prefix)")
    se.add_argument("--role", help="only user, assistant or system records")
    se.add_argument("--tool", help="only records that call this tool (Bash, Edit...)")
    se.add_argument("--since", metavar="DATE", help="only from this UTC date or time on")
    se.add_argument("--until", metavar="DATE", help="only before this UTC date or time")
    se.add_argument("--branch", help="only sessions on this git branch")
    se.add_argument("--json", action="store_true", help="every hit as JSON")
    ver = add("verify", "health.cmd_verify", "check everything: the file, its schema, SQLite's"
              " integrity, the full-text index, every frame, the index against the frames")
    ver.add_argument("--quick", action="store_true",
                     help="the cheap part: header, schema, quick_check, the full-text index,"
                     " the index of a sample of transcripts")
    add("backup", "commands.cmd_backup", "write a verified backup beside the archive")
    bks = add("backups", "health.cmd_backups", "list backups: time, age, size, sessions, state")
    bks.add_argument("--json", action="store_true")
    blm = add("blame", "blame.cmd_blame", "the sessions that changed a file, newest first: when,"
              " what they were asked, what was said, the commits that followed")
    blm.add_argument("file", help="the file: its path, or its end (src/app.py)")
    blm.add_argument("--json", action="store_true")
    sts = add("stats", "stats.cmd_stats", "what the sessions add up to: active time, turns,"
              " tokens and cost by day and by model, tool use, the files changed most")
    sts.add_argument("session", nargs="?", help="only this session (id or unique prefix)")
    sts.add_argument("--since", metavar="DATE", help="only from this UTC date or time on")
    sts.add_argument("--json", action="store_true", help="everything as JSON")
    sts.add_argument("--html", metavar="FILE", help="write a self-contained HTML report with"
                     " charts to FILE")
    fgt = add("forget", "forget.cmd_forget", "delete a session from the archive for good (a"
              " leaked secret, say) and keep import and catch-up from bringing it back")
    fgt.add_argument("session", help="session id or unique prefix")
    fgt.add_argument("--yes", action="store_true", help="do not ask first")
    fgt.add_argument("--with-copies", action="store_true", help="also the sessions that hold"
                     " copies of its messages (a resume, a fork), which it is refused without")
    fgt.add_argument("--undo", action="store_true", help="lift the tombstone and archive the"
                     " session again from Claude Code's folder, if it is still there")
    hand = add("handoff", "commands.cmd_handoff", "print what a new session would be handed"
               " now (secrets redacted), as Claude Code's SessionStart would get it")
    hand.add_argument("--source", choices=["startup", "compact"], default="startup")
    hand.add_argument("--session", metavar="ID", help="the session to hand over (startup) or"
                      " that is compacting (compact); default: the most recent")
    add("doctor", "health.cmd_doctor", "what to know about the archive: permissions, git, hooks,"
        " backups, verify, failures, and when Claude Code deletes its own copies")
    rec = add("recover", "health.cmd_recover", "rebuild the archive from everything that still"
              " holds it: backups, quarantined and damaged archives, transcripts on disk")
    rec.add_argument("--dry-run", action="store_true", help="say what would be done; change"
                     " nothing")
    rec.add_argument("--from", dest="from_backup", metavar="BACKUP",
                     help="the backup to start from (default: the newest verified one)")
    _add_branching(add, common)
    cln = add("cleanup", "cleanup.cmd_cleanup", "remove old sessions from the archive by the"
              " policy (cleanup_days, max_size_mb), listing them first; never a session the"
              " archive holds the only copy of unless --include-orphans")
    cln.add_argument("--dry-run", action="store_true", help="list what would go; change nothing")
    cln.add_argument("--yes", action="store_true", help="do not ask first")
    cln.add_argument("--older-than", type=_count, metavar="DAYS",
                     help="sessions last active more than DAYS ago, DAYS >= 1 (default:"
                     " cleanup_days)")
    cln.add_argument("--max-size", type=_count, metavar="MB", help="the oldest sessions until"
                     " the archive is at most MB megabytes, MB >= 1 (default: max_size_mb)")
    cln.add_argument("--include-orphans", action="store_true", help="also sessions whose"
                     " transcript Claude Code has deleted: the archive's copy is the last one")
    wat = add("watch", "watch.cmd_watch", "archive the project's transcripts as Claude Code"
              " writes them, until Ctrl-C")
    wat.add_argument("--all", action="store_true", help="every project Claude Code knows")
    options.add_setup_commands(sub)
    return parser


def _add_branching(add: Callable[[str, str, str], argparse.ArgumentParser],
                   common: argparse.ArgumentParser) -> None:
    """checkpoint, branch, merge (``cli.checkpoint``, ``cli.branch``)."""
    cp = add("checkpoint", "checkpoint.cmd_checkpoint", "named positions in a session to"
             " branch from: create, list, show (the hooks also take them before a compaction,"
             " at SessionEnd and every checkpoint_every_turns prompts)")
    actions = cp.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", parents=[common], help="a checkpoint where the"
                                " session is now, with git's branch, commit and dirty state")
    create.add_argument("name", help="the checkpoint's name, to branch from later: up to 100"
                        " letters, digits, '.', '_' or '-', starting with a letter or digit")
    create.add_argument("--session", metavar="S", help="session id or unique prefix (default:"
                        " the most recent)")
    listed = actions.add_parser("list", parents=[common], help="every checkpoint, oldest first")
    listed.add_argument("--session", metavar="S", help="only this session's")
    listed.add_argument("--named", action="store_true", help="only the ones taken by name"
                        " (checkpoint create), not the hooks' automatic ones")
    listed.add_argument("--reason", choices=("named", "compact", "turns", "end"),
                        help="only the ones taken for this reason")
    listed.add_argument("--json", action="store_true")
    shown = actions.add_parser("show", parents=[common], help="one checkpoint and the branches"
                               " made from it")
    shown.add_argument("name", help="checkpoint name (see: session-core checkpoint list)")
    shown.add_argument("--json", action="store_true")
    br = add("branch", "branch.cmd_branch", "a new session cut at a checkpoint, written where"
             " Claude Code looks, to 'claude --resume'")
    br.add_argument("checkpoint", help="checkpoint name")
    br.add_argument("--name", metavar="N", help="a name for the branch (with --worktree: its"
                    " git branch)")
    br.add_argument("--worktree", metavar="DIR", help="also a git worktree at the checkpoint's"
                    " commit, the session filed under it")
    mg = add("merge", "branch.cmd_merge", "a new session that continues a branch's origin (or"
             " --into) and ends with a note of what the branch found")
    mg.add_argument("branch", help="the branch session (id or unique prefix)")
    mg.add_argument("--into", metavar="SESSION", help="the session to continue (default: the"
                    " one the branch was cut from)")


def _require_archive(project: str | None) -> None:
    """Reading commands never create an archive."""
    root = locations.project_root(project)
    settings = load_settings(root)  # a settings mistake is the first thing to report
    where = locations.archive_path(root)
    if not os.path.exists(where) and (locations.earlier_copies(where)
                                      or newest_stamp(where, settings)):
        raise NotFoundError(f"no archive at {where}, but backups or quarantined copies of it"
                            " exist: it was deleted or moved", RECOVER_HINT)
    if not os.path.exists(where):
        raise NotFoundError(f"no archive at {where}",
                            ("install the suite in the project (python3 install.py PROJECT, or the"
                             " Claude Code plugin) or run 'session-core import' there first; or"
                             " fix --project"))


def _require_watchable(project: str | None) -> None:
    """``watch`` creates the archive as ``import`` does, but only for a project that has one
    already or that Claude Code keeps a folder for: a typo in --project would otherwise leave
    an empty archive in a folder no session is run in, and wait there for nothing."""
    root = locations.project_root(project)
    where = locations.archive_path(root)
    if os.path.exists(where):
        return
    settings = load_settings(root)
    folder = project_folder(root, projects_dir(settings.claude_config_dir))
    if not os.path.isdir(folder):
        raise NotFoundError(f"no archive at {where}, and Claude Code has no folder for {root}"
                            f" ({folder})", "check --project; for a new project, run Claude Code"
                            " in it once (or 'session-core import' there), then watch")


OPENS_ITS_OWN = frozenset({"verify", "backups", "recover", "doctor"})
"""Commands that read the archive file as it is found (``cli.health``), never creating or
migrating it."""


def _run(args: argparse.Namespace) -> int:
    if args.command in options.SETUP_COMMANDS or args.command in OPENS_ITS_OWN:
        return int(command_of(args.func)(args))
    if args.command == "import" and args.paths:
        if args.all:
            raise UsageError("--all and transcript paths exclude each other", "use one")
        for path in args.paths:  # refuse before the archive is even created
            check_named_transcript(path)
    if args.command in NEEDS_AN_ARCHIVE:
        _require_archive(args.project)
    if args.command == "watch":
        _require_watchable(args.project)
    with open_for_command(args.project) as archive:
        return int(command_of(args.func)(archive, args))


def _project_of(args: argparse.Namespace) -> None:
    """``--project`` before or after the command; else the project the current directory is
    in, so the CLI works from any folder of it (``install`` names its own target)."""
    project = getattr(args, "project", None) or args.global_project
    if project is None and args.command not in options.SETUP_COMMANDS:
        project = locations.find_project(os.getcwd())
    if hasattr(args, "project") or project is not None:
        args.project = project


def main(argv: Sequence[str] | None = None) -> int:
    restrict_umask(OWNER_ONLY_WRITES)
    args = build_parser().parse_args(argv)
    try:
        _project_of(args)
        return _run(args)
    except SessionCoreError as exc:
        print(exc.render(), file=sys.stderr)
        return int(exc.exit_code)
    except BrokenPipeError:
        return ExitCode.OK
    except UnicodeDecodeError as exc:  # text in the archive that damage made unreadable
        print(f"Error: the archive is damaged (stored text is not UTF-8: {exc.reason})\n"
              f"Try: {RECOVER_HINT}", file=sys.stderr)
        return int(ExitCode.BAD_DATABASE)
    except OSError as exc:  # e.g. an --output path that cannot be written
        print(f"Error: {exc}\nTry: check the path and its permissions", file=sys.stderr)
        return int(ExitCode.FAILURE)
    except KeyboardInterrupt:
        print("Error: interrupted", file=sys.stderr)
        return 130
