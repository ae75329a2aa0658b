"""``session-core checkpoint create|list|show``: named positions in a session to branch from.

``create`` archives what is new in the session's transcripts first, so the checkpoint stands
where the session is now, not where the last hook left it; then it records the position and
git's branch, commit and dirty state. The hooks take automatic ones (``hook.handlers.checkpoint``).

Git is read now only for the session running now (:func:`running_now`); a checkpoint of an
older session records the branch and commit as that session left them (``store.state``, else
its last entries' ``gitBranch``), dirty unknown: today's HEAD is not where it stood, and a
``branch --worktree`` from it must check out the session's commit.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3

from ..base.clock import local_time
from ..base.errors import ConflictError, ExitCode, NotFoundError, UsageError
from ..store import branches, checkpoints, files, sessions, state
from ..store.archive import Archive
from ..transcript.checkpoint import take

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_AUTOMATIC_NAME = re.compile(r"(?:compact|turns|end)-[0-9a-f]{8}-[0-9]+")
"""How the hooks name theirs (``<reason>-<session>-<n>``): a user's name never takes one."""


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
    if running_now(conn, session):
        head = read_head(archive.project)
        dirty = DirtyCheck(archive.project).result(timeout=10) if head else None
        git = (head.branch, head.commit, dirty) if head else (None, None, None)
        whose = "git state now"
    else:
        git = recorded_git(conn, session)
        whose = f"git state as session {session.uuid[:8]} left it"
    try:
        made = take(archive.db, session.uuid, "named", git, archive.settings, name=name)
    except sqlite3.IntegrityError as exc:  # taken meanwhile
        raise ConflictError(f"a checkpoint named '{name}' exists already",
                            "choose another name") from exc
    assert made is not None  # a named one is never skipped
    print(f"Checkpoint {made.name}: session {made.session_uuid} {after_prompt(made.prompts)}"
          f" (byte {made.offset:,}, entry {made.last_uuid or '-'}); {whose}:"
          f" {git_text(made)}.")
    print(f"Branch from it with: session-core branch {made.name}")
    return ExitCode.OK


def running_now(conn: sqlite3.Connection, session: sessions.SessionRow) -> bool:
    """Whether ``session`` is the one running now, so that git as it is now is its state: it
    has not ended (no SessionEnd after its last event) and its latest activity (its last
    hook event, else its last archived entry) is within ``hook.live.RUNNING_SECONDS``, the
    window in which the handoff too counts a session as maybe still open."""
    import calendar
    import time

    from ..hook.live import RUNNING_SECONDS

    known = state.get(conn, session.uuid)
    if known is not None and known.ended_at is not None:
        return False
    seconds = []
    for at in (known.last_event_at if known else None, session.last_ts):
        if isinstance(at, str):  # the stored format (``base.clock``), to the second
            try:
                seconds.append(calendar.timegm(time.strptime(at[:19], "%Y-%m-%dT%H:%M:%S")))
            except ValueError:
                continue
    return bool(seconds) and time.time() - max(seconds) < RUNNING_SECONDS


def recorded_git(conn: sqlite3.Connection,
                 session: sessions.SessionRow) -> tuple[str | None, str | None, None]:
    """(branch, commit, dirty unknown) as the session left them: its last recorded state
    (``store.state``), else the branch its last entries named, commit unknown."""
    known = state.get(conn, session.uuid)
    if known is not None and (known.git_branch or known.git_commit):
        return known.git_branch, known.git_commit, None
    return session.git_branch, None, None


def after_prompt(prompts: int) -> str:
    """Where a checkpoint stands, as a person counts: after the session's Nth prompt."""
    return f"after prompt {prompts}" if prompts else "before the first prompt"


def git_text(made: checkpoints.Checkpoint) -> str:
    """``main 3f94d7b967, clean``: the checkpoint's git state, for a line that says "git"."""
    if made.git_commit is None and made.git_branch is None:
        return "none recorded"
    dirty = {True: "uncommitted changes", False: "clean", None: "dirty state unknown"}
    commit = made.git_commit[:10] if made.git_commit else "commit unknown"
    return f"{made.git_branch or '(detached)'} {commit}, {dirty[made.git_dirty]}"


def _list(archive: Archive, args: argparse.Namespace) -> int:
    conn = archive.db.conn
    session_id = sessions.resolve(conn, args.session).session_id if args.session else None
    found = checkpoints.listed(conn, session_id)
    reason = "named" if getattr(args, "named", False) else getattr(args, "reason", None)
    if reason:
        found = [c for c in found if c.reason == reason]
    if args.json:
        print(json.dumps([c.as_dict() for c in found], indent=2))
        return ExitCode.OK
    if not found:
        print(f"No {reason + ' ' if reason else ''}checkpoints." + (
            "" if args.session else " Take one: session-core checkpoint create NAME"))
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
             f"Position    {after_prompt(c.prompts)} (byte {c.offset:,} of generation"
             f" {c.generation}; last entry {c.last_uuid or '-'})",
             f"Git         {git_text(c)}"]
    lines += [f"Branched    {link.session_uuid} ({local_time(link.created_at)})"
              for link in made]
    print("\n".join(lines))
    return ExitCode.OK
