"""``session-core branch CHECKPOINT`` and ``session-core merge BRANCH``: new sessions Claude
Code resumes, written from the archive's bytes (``transcript.branch``), archived at once and
linked to where they came from (``store.branches``; ``show`` names both ends).

A branch is the session cut at a checkpoint under a new id, so ``claude --resume`` takes it up
from there; ``--worktree`` also checks the checkpoint's commit out in a git worktree and files
the session under that folder, where Claude Code started in it looks. A merge continues its
target (by default the session the branch was cut from) with one more message: the note of what
the branch found after its cut (``handoff.branch_note``), redacted as every handoff is.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sqlite3
import subprocess

from ..base.clock import local_time, utc_stamp
from ..base.errors import ConflictError, ExitCode, NotFoundError, UsageError
from ..store import branches, checkpoints, files, frames, sessions
from ..store.archive import Archive
from ..transcript import layout
from ..transcript.branch import Copied, agent_id_of, at_generation, new_session_id, write_session
from .backfill import claude_projects_dir
from .checkpoint import catch_up, checkpoint_named

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..transcript.digest import Digest


def _folder_for(archive: Archive, project: str) -> str:
    return layout.project_folder(project, claude_projects_dir(archive))


def _archive_copy(archive: Archive, copied: Copied) -> None:
    from ..transcript.ingest import ingest_file

    for path in copied.paths:
        ingest_file(archive.db, path, archive.settings)


def _archive_and_link(archive: Archive, copied: Copied, link: branches.Link) -> None:
    """The link and the archived copy in one transaction: both are there, or neither (the
    caller then removes the files), never a written session without its link."""
    db = archive.db
    db.hold_commits()
    try:
        with db.write() as conn:
            branches.add(conn, link)
        _archive_copy(archive, copied)
        db.end_hold(commit=True)
    except BaseException:
        db.end_hold(commit=False)
        raise


def _remove_written(folder: str, session_uuid: str) -> None:
    """What :func:`write_session` wrote (or began to) of a new session that failed: its
    transcript and its folder of subagents. The id is fresh: nothing else is named so."""
    shutil.rmtree(os.path.join(folder, session_uuid), ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(layout.transcript_in(folder, session_uuid))


def _remove_worktree(project: str, target: str, name: str | None) -> None:
    """Undo :func:`_add_worktree` (the branch failed after it): the worktree, and the git
    branch it made. Best effort: the error that matters is the one being raised."""
    for argv in (["worktree", "remove", "--force", target], ["worktree", "prune"],
                 *([["branch", "-D", name]] if name else [])):
        with contextlib.suppress(OSError):
            subprocess.run(["git", "-C", project, *argv], capture_output=True, check=False)


def _add_worktree(project: str, target: str, commit: str | None, name: str | None) -> None:
    """``git worktree add`` at the checkpoint's commit: a new git branch ``name``, else a
    detached HEAD."""
    if commit is None:
        raise UsageError("the checkpoint has no git commit (no repository, none yet, or"
                         " none recorded of the older session it was taken of)",
                         "branch without --worktree")
    if os.path.exists(target):
        raise ConflictError(f"{target} exists already", "name a new folder for the worktree")
    how = ["-b", name] if name else ["--detach"]
    done = subprocess.run(["git", "-C", project, "worktree", "add", "-q", *how, target, commit],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ConflictError(f"git worktree add failed: {done.stderr.strip()[:300]}",
                            "fix what git says (a branch of that name may exist), or branch"
                            " without --worktree")


def cmd_branch(archive: Archive, args: argparse.Namespace) -> int:
    db = archive.db
    checkpoint = checkpoint_named(db.conn, args.checkpoint)
    main = files.by_id(db.conn, checkpoint.file_id)
    if main is None:
        raise NotFoundError(f"the transcript of checkpoint '{checkpoint.name}' is no longer in"
                            " the archive", "run 'session-core checkpoint list'")
    at_generation(main, checkpoint.generation)
    worktree = os.path.abspath(args.worktree) if args.worktree else None
    if worktree is not None:
        _add_worktree(archive.project, worktree, checkpoint.git_commit, args.name)
    project = worktree or archive.project
    new = new_session_id()
    folder = _folder_for(archive, project)
    try:
        with db.read() as conn:  # one snapshot: a hook's repack may rewrite frames meanwhile
            copied = write_session(conn, main, files.of_session(conn, main.session_id),
                                   checkpoint.offset, folder, new,
                                   cwd=(archive.project, worktree) if worktree else None)
        _archive_and_link(archive, copied, branches.Link((
            new, "branch", checkpoint.session_uuid, checkpoint.name, None, args.name, worktree,
            copied.cut_bytes, utc_stamp())))
    except BaseException:  # nothing half made stays: no session without its link
        _remove_written(folder, new)
        if worktree is not None:
            _remove_worktree(archive.project, worktree, args.name)
        raise
    print(f"Branched session {checkpoint.session_uuid} at checkpoint {checkpoint.name}"
          f" ({checkpoint.offset:,} bytes, {len(copied.paths) - 1} subagent file(s)) into"
          f" session {new}.")
    if worktree is not None:
        print(f"Worktree {worktree} at {(checkpoint.git_commit or '')[:10]}"
              f"{' on branch ' + args.name if args.name else ' (detached)'}.")
        print(f"Resume it with: cd {worktree} && claude --resume {new}")
    else:
        differs = _tree_differs(archive.project, checkpoint)
        if differs:
            print(f"Files: the working tree is not as it was at the checkpoint ({differs}):"
                  " the branch rewinds the conversation, not the files; --worktree DIR gives"
                  " a checkout at its commit.")
        print(f"Resume it with: claude --resume {new}")
    return ExitCode.OK


def _tree_differs(project: str, checkpoint: checkpoints.Checkpoint) -> str | None:
    """How the working tree differs from the checkpoint's commit and dirty state, or None
    when it does not or git cannot say (no commit recorded, no repository)."""
    from ..handoff.git import DirtyCheck, read_head

    if checkpoint.git_commit is None:
        return None
    head = read_head(project)
    if head is None or head.commit is None:
        return None
    if head.commit != checkpoint.git_commit:
        return f"HEAD is {head.commit[:10]} now, {checkpoint.git_commit[:10]} then"
    if checkpoint.git_dirty is None:
        return None
    dirty = DirtyCheck(project).result(timeout=10)
    if dirty is True and checkpoint.git_dirty is False:
        return "uncommitted changes now, clean then"
    if dirty is False and checkpoint.git_dirty is True:
        return "clean now, uncommitted changes then"
    return None


def _branch_digest(archive: Archive, branch: sessions.SessionRow, cut: int,
                   origin_names: set[str]) -> tuple[Digest, list[Digest]]:
    """The digest of the branch's own part (its transcript after ``cut``) and of the
    subagents it ran there (those not copied from its origin)."""
    from ..handoff.notes import file_digest
    from ..transcript.digest import digest_lines

    db, limit = archive.db, archive.settings.max_indexed_line_bytes
    found = files.of_session(db.conn, branch.session_id)
    main = files.main_file(found, branch.uuid)
    lines = (line for line in frames.read_lines(db.conn, main, cut, main.committed)
             if len(line) <= limit) if cut < main.committed else iter(())
    digest = digest_lines(branch.uuid, lines)
    subagents = [file_digest(db, record, limit) for record in found
                 if record.kind == "subagent" and agent_id_of(record) is not None
                 and record.rel_path.rsplit("/", 1)[-1] not in origin_names]
    return digest, subagents


def _subagent_names(conn: sqlite3.Connection, session_uuid: str) -> set[str]:
    session_id = sessions.id_of(conn, session_uuid)
    if session_id is None:
        return set()
    return {record.rel_path.rsplit("/", 1)[-1] for record in files.of_session(conn, session_id)
            if record.kind != "session"}


def cmd_merge(archive: Archive, args: argparse.Namespace) -> int:
    from ..handoff.branch_note import merged_branch

    db = archive.db
    branch = sessions.resolve(db.conn, args.branch)
    link = branches.of_session(db.conn, branch.uuid)
    into = args.into or (link.origin_uuid if link is not None else None)
    if into is None:
        raise UsageError(*_no_link(archive, branch))
    target = sessions.resolve(db.conn, into)
    if target.uuid == branch.uuid:
        raise UsageError("a session cannot be merged into itself", "name another with --into")
    catch_up(archive, branch.uuid)
    catch_up(archive, target.uuid)
    cut = link.cut_bytes if link is not None and link.kind == "branch" else 0
    origin = link.origin_uuid if link is not None else None
    digest, subagents = _branch_digest(archive, branch, cut,
                                       _subagent_names(db.conn, origin) if origin else set())
    if digest.last_ts is None and not digest.prompts and not subagents:
        raise ConflictError(f"nothing to merge: session {branch.uuid} has done nothing since"
                            + (f" it was cut at checkpoint {link.checkpoint}"
                               if link is not None and link.checkpoint else " it was written"),
                            f"resume it first (claude --resume {branch.uuid}), or merge"
                            " another branch")
    note = merged_branch(digest, subagents, archive.settings.handoff_chars,
                         branch_uuid=branch.uuid, origin=origin,
                         checkpoint=link.checkpoint if link is not None else None,
                         project=archive.project)
    new = new_session_id()
    folder = _folder_for(archive, archive.project)
    try:
        with db.read() as conn:
            target_files = files.of_session(conn, target.session_id)
            main = files.main_file(target_files, target.uuid)
            copied = write_session(conn, main, target_files, main.committed, folder, new,
                                   note=note)
        _archive_and_link(archive, copied, branches.Link((
            new, "merge", target.uuid, None, branch.uuid, None, None, copied.cut_bytes,
            utc_stamp())))
    except BaseException:
        _remove_written(folder, new)
        raise
    print(f"Merged branch {branch.uuid} into a continuation of session {target.uuid}:"
          f" session {new}, whose last message is a note of what the branch found.")
    print(f"Resume it with: claude --resume {new}")
    return ExitCode.OK


def _no_link(archive: Archive, branch: sessions.SessionRow) -> tuple[str, str]:
    """Why a session with no ``branches`` row here has no origin, and what to do: it may be a
    branch made in another project (``--worktree`` files it under the worktree, which has an
    archive of its own), named when its cwd or the worktree's git repository says which."""
    here = os.path.realpath(archive.project)
    other = next((path for path in (branch.cwd, _main_worktree(archive.project))
                  if path and os.path.realpath(path) != here), None)
    where = f" ({other})" if other else ""
    return (f"session {branch.uuid} has no branch link in this project's archive: it was not"
            " branched by session-core here, so it has no origin to merge into; it may have"
            f" been branched in another project{where} (a worktree has its own archive)",
            ("run the merge there: session-core merge " + branch.uuid[:8] + " --project "
             + other if other else "run the merge in the project it was branched in")
            + ", or name the session to continue: --into SESSION")


def _main_worktree(project: str) -> str | None:
    """The repository's main working tree when ``project`` is a linked worktree of it."""
    try:
        done = subprocess.run(["git", "-C", project, "rev-parse", "--path-format=absolute",
                               "--git-common-dir"], capture_output=True, text=True,
                              check=False, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    common = done.stdout.strip()
    if done.returncode != 0 or not common.endswith("/.git"):
        return None
    return common[:-5]


def link_lines(conn: sqlite3.Connection, session_uuid: str) -> list[str]:
    """What ``show`` says of where a session came from and what was made from it."""
    lines = []
    link = branches.of_session(conn, session_uuid)
    if link is not None and link.kind == "branch":
        lines.append(f"Origin    branch of {link.origin_uuid} at checkpoint {link.checkpoint}"
                     f"{' (' + link.name + ')' if link.name else ''}"
                     f"{', worktree ' + link.worktree if link.worktree else ''}")
    elif link is not None:
        lines.append(f"Origin    merge: continues {link.origin_uuid} with what branch"
                     f" {link.merged_uuid} found")
    for made in branches.from_origin(conn, session_uuid):
        if made.kind == "branch":
            lines.append(f"Branched  {made.session_uuid} at checkpoint {made.checkpoint}"
                         f" ({local_time(made.created_at)})")
        else:
            lines.append(f"Merged    {made.session_uuid} (with branch {made.merged_uuid},"
                         f" {local_time(made.created_at)})")
    return lines


def link_data(conn: sqlite3.Connection, session_uuid: str) -> dict[str, object]:
    """The same for ``show --json``."""
    link = branches.of_session(conn, session_uuid)
    return {"origin": link.as_dict() if link is not None else None,
            "branches": [made.as_dict() for made in branches.from_origin(conn, session_uuid)]}

