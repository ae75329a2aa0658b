"""``session-core blame FILE``: the sessions that changed a file, newest first, with when, what
they were asked, what was said as they changed it, and the commits that followed.

Read from ``store.recall``'s ``file_changes`` (successful edits only, subagents' included) and
each session's digest (its commits); redacted like every text that leaves the archive.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from ..base.clock import minute_text
from ..base.errors import ExitCode, NotFoundError
from ..base.text import clip, short_path
from ..handoff.notes import session_digest
from ..handoff.redact import redact
from ..store import recall, sessions
from ..store.archive import Archive


def blame_rows(archive: Archive, target: str) -> list[dict[str, Any]]:
    """Every archived path ``target`` names (exactly, or as its end), each with its sessions."""
    conn = archive.db.conn
    absolute = os.path.normpath(os.path.join(os.getcwd(), target))
    paths = [absolute] if recall.changes_of(conn, absolute, limit=1) else \
        recall.paths_like(conn, target.strip("/").removeprefix("./"))
    rows = []
    for path in paths:
        changes = []
        for change in recall.changes_of(conn, path):
            changes.append({
                "session": change.session_uuid, "at": change.at, "action": change.action,
                "edits": change.edits,
                "request": redact(change.request) if change.request else None,
                "said": redact(change.note) if change.note else None,
                "commits_after": _commits_after(archive, change.session_uuid, change.at)})
        rows.append({"path": path, "file": short_path(path, archive.project),
                     "sessions": changes})
    return rows


def _commits_after(archive: Archive, session_uuid: str, at: str | None) -> list[dict[str, Any]]:
    """The session's commits made after its last change of the file (by the time of the
    output that showed each)."""
    session_id = sessions.id_of(archive.db.conn, session_uuid)
    if session_id is None:
        return []
    try:
        digest = session_digest(archive.db, session_id, session_uuid,
                                archive.settings.max_indexed_line_bytes)
    except NotFoundError:  # only subagent files archived for it
        return []
    return [{"hash": sha, "subject": redact(subject), "at": when}
            for sha, subject, when in digest.commits
            if at is None or when is None or when >= at]


def _one_line(text: str) -> str:
    return clip(text, 160, flatten=True, ellipsis=True)


def render(rows: list[dict[str, Any]]) -> str:
    out = []
    for row in rows:
        count = len(row["sessions"])
        out.append(f"{row['file']} ({count} session{'s' if count != 1 else ''})")
        for change in row["sessions"]:
            edits = f", {change['edits']} edits" if change["edits"] > 1 else ""
            out.append(f"  {minute_text(change['at'])}  {change['session']}"
                       f"  {change['action']}{edits}")
            if change["request"]:
                out.append(f"    asked: {_one_line(change['request'])}")
            if change["said"]:
                out.append(f"    said:  {_one_line(change['said'])}")
            for commit in change["commits_after"]:
                out.append(f"    then committed {commit['hash'][:10]} {commit['subject']}")
    return "\n".join(out)


def cmd_blame(archive: Archive, args: argparse.Namespace) -> int:
    rows = blame_rows(archive, args.file)
    if not rows:
        raise NotFoundError(
            f"no session of this project changed {args.file} (as far as the archive knows)",
            "name the file as the edits did, or by its end (src/app.py); 'session-core import'"
            " first archives what Claude Code still keeps")
    print(json.dumps(rows, indent=2, ensure_ascii=False) if args.json else render(rows))
    return ExitCode.OK
