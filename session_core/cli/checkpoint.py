"""``session-core checkpoint create|list|show``: named positions in a session to branch from.

``create`` archives what is new in the session's transcripts first, so the checkpoint stands
where the session is now, not where the last hook left it; then it records the position and
git's branch, commit and dirty state. The hooks take automatic ones (``hook.handlers.checkpoint``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3

from ..base.clock import local_time
from ..base.errors import ConflictError, ExitCode, NotFoundError, UsageError
from ..store import branches, checkpoints, files, sessions
from ..store.archive import Archive
from ..transcript.checkpoint import take

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_AUTOMATIC_NAME = re.compile(r"(?:compact|turns|end)-[0-9a-f]{8}-[0-9]+")
"""How the hooks name theirs (``<reason>-<session>-<row id>``): a user's name never takes one."""


def catch_up(archive: Archive, session_uuid: str) -> None:
    """Archive what is new on disk of the session's transcript and subagent files (they may
    have grown since the last hook, or the session ran without the hooks)."""
    from ..transcript.ingest import ingest_file

    conn = archive.db.conn
    session_id = sessions.id_of(conn, session_uuid)
    if session_id is None:
        return
    for record in files.of_session(conn, session_id):
        if record.kind == "sidecar" or not os.path.isfile(record.path):
            continue
        if os.path.getsize(record.path) != record.size:
            ingest_file(archive.db, record.path, archive.settings)


def session_or_latest(conn: sqlite3.Connection, ref: str | None) -> sessions.SessionRow:
    """``--session`` (an id or unique prefix), else the most recent session with a prompt."""
    if ref:
        return sessions.resolve(conn, ref)
    found = sessions.latest_with_prompt(conn, "")
    if found is None:
        raise NotFoundError("no session in this archive to take a checkpoint of",
                            "run 'session-core import' first, or name one with --session")
    return found


def checkpoint_named(conn: sqlite3.Connection, name: str) -> checkpoints.Checkpoint:
    found = checkpoints.by_name(conn, name)
    if found is None:
        raise NotFoundError(f"no checkpoint named '{name}'", "run 'session-core checkpoint list'")
    return found


def cmd_checkpoint(archive: Archive, args: argparse.Namespace) -> int:
    if args.action == "create":
        return _create(archive, args)
    if args.action == "list":
        return _list(archive, args)
    return _show(archive, args)


def _create(archive: Archive, args: argparse.Namespace) -> int:
    from ..handoff.git import DirtyCheck, read_head

    name = args.name
    if not _NAME.fullmatch(name) or _AUTOMATIC_NAME.fullmatch(name):
        raise UsageError(f"'{name[:120]}' cannot name a checkpoint",
                         "use up to 100 letters, digits, '.', '_' or '-', starting with a letter"
                         " or digit (names like compact-1a2b3c4d-7 are the hooks' own)")
    conn = archive.db.conn
    session = session_or_latest(conn, args.session)
    if checkpoints.by_name(conn, name) is not None:
        raise ConflictError(f"a checkpoint named '{name}' exists already",
                            f"choose another name, or see it: 'session-core checkpoint show"
                            f" {name}'")
    catch_up(archive, session.uuid)
    head = read_head(archive.project)
    dirty = DirtyCheck(archive.project).result(timeout=10) if head else None
    git = (head.branch, head.commit, dirty) if head else (None, None, None)
    try:
        made = take(archive.db, session.uuid, "named", git, archive.settings, name=name)
    except sqlite3.IntegrityError as exc:  # taken meanwhile
        raise ConflictError(f"a checkpoint named '{name}' exists already",
                            "choose another name") from exc
    assert made is not None  # a named one is never skipped
    print(f"Checkpoint {made.name}: session {made.session_uuid} at byte {made.offset:,}"
          f" (after entry {made.last_uuid or '-'}), {_git_text(made)}.")
    print(f"Branch from it with: session-core branch {made.name}")
    return ExitCode.OK


def _git_text(made: checkpoints.Checkpoint) -> str:
    if made.git_commit is None and made.git_branch is None:
        return "no git state"
    dirty = {True: "uncommitted changes", False: "clean", None: "dirty state unknown"}
    return (f"git {made.git_branch or '(detached)'} {(made.git_commit or '-')[:10]},"
            f" {dirty[made.git_dirty]}")


def _list(archive: Archive, args: argparse.Namespace) -> int:
    conn = archive.db.conn
    session_id = sessions.resolve(conn, args.session).session_id if args.session else None
    found = checkpoints.listed(conn, session_id)
    if args.json:
        print(json.dumps([c.as_dict() for c in found], indent=2))
        return ExitCode.OK
    if not found:
        print("No checkpoints." + ("" if args.session else " Take one: session-core checkpoint"
                                   " create NAME"))
        return ExitCode.OK
    width = max(4, *(len(c.name) for c in found))
    print(f"{'NAME':{width}}  {'TAKEN':23}  {'REASON':7}  {'SESSION':8}  {'BYTES':>11}  GIT")
    for c in found:
        commit = (c.git_commit or "-")[:10] + ("*" if c.git_dirty else "")
        print(f"{c.name:{width}}  {local_time(c.created_at):23}  {c.reason:7}"
              f"  {c.session_uuid[:8]:8}  {c.offset:>11,}  {c.git_branch or '-'} {commit}")
    return ExitCode.OK


def _show(archive: Archive, args: argparse.Namespace) -> int:
    conn = archive.db.conn
    c = checkpoint_named(conn, args.name)
    made = [link for link in branches.from_origin(conn, c.session_uuid)
            if link.checkpoint == c.name]
    if args.json:
        print(json.dumps({**c.as_dict(), "branches": [link.session_uuid for link in made]},
                         indent=2))
        return ExitCode.OK
    lines = [f"Checkpoint  {c.name} ({c.reason})",
             f"Session     {c.session_uuid}",
             f"Taken       {local_time(c.created_at)}",
             f"Position    byte {c.offset:,} of generation {c.generation}; last entry"
             f" {c.last_uuid or '-'}; {c.prompts} prompt(s) in",
             f"Git         {_git_text(c)}"]
    lines += [f"Branched    {link.session_uuid} ({local_time(link.created_at)})"
              for link in made]
    print("\n".join(lines))
    return ExitCode.OK
