"""``session-core cleanup``: old sessions out of the archive by the policy (``cleanup_days``,
``max_size_mb``, or ``--older-than`` / ``--max-size``), what goes listed first and asked about
as ``forget`` asks (``--yes`` skips it); the archive file shrinks afterwards. What is removed
and what stays is ``transcript.cleanup``'s."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..base.clock import minute_text
from ..base.errors import ConflictError, ExitCode, UsageError
from ..base.text import clip
from ..handoff.redact import redact
from ..store.archive import Archive
from ..store.backup import backups_holding
from ..transcript import cleanup
from ..transcript.cleanup import MB, Plan, Policy
from .confirm import confirmed

NO_POLICY_HINT = ("pass --older-than DAYS or --max-size MB, or set cleanup_days or max_size_mb"
                  " in .claude/session-core.json")


KB = 1 << 10
WHAT_FLAGS_TAKE = {"--older-than": "a number of days, 1 or more (e.g. --older-than 90)",
                   "--max-size": "a size in MB, 1 or more (e.g. --max-size 500)"}


def _size(count: int) -> str:
    """Precise enough to show what a cleanup changed: bytes, then KB, then MB from 10 MB."""
    if count < 10 * KB:
        return f"{count:,} bytes"
    if count < 10 * MB:
        return f"{count / KB:,.0f} KB"
    return f"{count / MB:,.1f} MB"


def _limit(max_bytes: int) -> str:
    return f"{max_bytes // MB:,} MB"


def _file_bytes(path: str) -> int:
    """The archive as it takes up the disk: the file and its write-ahead log."""
    return sum(os.path.getsize(p) for p in (path, f"{path}-wal") if os.path.exists(p))


def _rules(policy: Policy) -> str:
    rules = []
    if policy.days:
        rules.append(f"last active more than {policy.days} day(s) ago")
    if policy.max_bytes:
        rules.append(f"oldest first, until the archive is at most {_limit(policy.max_bytes)}")
    return " and ".join(rules)


def _print_plan(found: Plan, policy: Policy, dry_run: bool) -> None:
    verb = "Would remove" if dry_run else "Removing"
    if found.going:
        print(f"{verb} {len(found.going)} session(s) ({_rules(policy)}), freeing about"
              f" {_size(found.size_before - found.size_after)} of {_size(found.size_before)}:")
    else:
        print(_nothing(found, policy))
    for candidate in found.going:
        row = candidate.row
        title = clip(redact(row.title or "(no prompt)"), 60, flatten=True, ellipsis=True)
        print(f"  {row.uuid}  {minute_text(candidate.last_active or None)}"
              f"{'  (only copy)' if candidate.orphan else ''}  {title}")
    for candidate, reason in found.kept:
        print(f"  kept {candidate.row.uuid}: {reason}")
    orphans = sum(1 for c, reason in found.kept if "only copy" in reason)
    if orphans:
        print(f"  ({orphans} kept as the only copy: --include-orphans removes them too)")
    if policy.max_bytes and found.size_after > policy.max_bytes:
        print(f"  the archive stays above {_limit(policy.max_bytes)}: what is left is kept"
              " (above) or newer")


def _nothing(found: Plan, policy: Policy) -> str:
    if found.kept:
        return f"Nothing to remove: what the policy ({_rules(policy)}) picks stays:"
    reasons = []
    if policy.days:
        reasons.append(f"no session was last active more than {policy.days} day(s) ago")
    if policy.max_bytes:
        reasons.append(f"the archive ({_size(found.size_before)}) is within"
                       f" {_limit(policy.max_bytes)}")
    return f"Nothing to remove: {' and '.join(reasons)}."


def _question(archive: Archive, uuids: list[str]) -> str:
    """What removing them costs: named, the backups holding them (the way back), or none."""
    holding = backups_holding(archive.db.path, uuids, archive.settings)
    if not holding:
        return ("Remove them? They are deleted from the archive, and no backup holds them"
                " (Claude Code's own transcripts are not touched).")
    names = ", ".join(Path(p).name for p in holding[:3]) + (", ..." if len(holding) > 3 else "")
    return (f"Remove them? They are deleted from the archive; {len(holding)} backup(s) made"
            f" before still hold them ({names} in {Path(holding[0]).parent}).")


def cmd_cleanup(archive: Archive, args: argparse.Namespace) -> int:
    for flag, value in (("--older-than", args.older_than), ("--max-size", args.max_size)):
        if value is not None and value < 1:
            raise UsageError(f"{flag} takes a whole number >= 1, not {value}",
                             f"pass {flag} {WHAT_FLAGS_TAKE[flag]}")
    policy = Policy.of(archive.settings, args.older_than, args.max_size, args.include_orphans)
    if policy.off:
        raise UsageError("no cleanup policy: cleanup_days and max_size_mb are off (0)",
                         NO_POLICY_HINT)
    db = archive.db
    shown: Plan | None = None
    if args.dry_run or not args.yes:  # shown and asked about without holding the write lock
        with db.read() as conn:
            shown = cleanup.plan(conn, db.used_bytes(), policy)
        _print_plan(shown, policy, dry_run=True)
        if args.dry_run:
            return ExitCode.OK
        if shown.going and not confirmed(args.yes, "cleanup",
                                         _question(archive, shown.uuids)):
            print("Nothing was removed.", file=sys.stderr)
            return ExitCode.FAILURE
    before = _file_bytes(db.path)
    with db.write() as conn:  # planned and removed under one lock: nothing changes between
        found = cleanup.plan(conn, db.used_bytes(), policy)
        if shown is None:
            _print_plan(found, policy, dry_run=False)
        elif found.uuids != shown.uuids:
            raise ConflictError("the archive changed while cleanup asked; nothing was removed",
                                "run 'session-core cleanup' again")
        marked = cleanup.remove_planned(conn, archive.settings, found) if found.going else 0
        cleanup.drop_stale_marks(conn)
    if not found.going:
        return ExitCode.OK
    db.shrink()
    flushed = db.checkpoint()
    after = _file_bytes(db.path)
    print(f"Removed {len(found.going)} session(s): the archive went from {_size(before)} to"
          f" {_size(after)} ({_size(max(before - after, 0))} freed).")
    if marked:
        print(f"Claude Code still keeps {marked} of their transcript(s): import and the hooks"
              " leave them out until Claude Code writes to them again ('session-core import"
              " FILE' takes one back).")
    if not flushed:
        print("note: another process is reading the archive; the file shrinks at the next"
              " save")
    holding = backups_holding(db.path, found.uuids, archive.settings)
    if holding:  # retention keeps the newest backup holding a session no newer one holds
        print(f"note: {len(holding)} backup(s) made before still hold them, and the newest of"
              f" those is kept until you delete it ({Path(holding[0]).name} in"
              f" {Path(holding[0]).parent}): it is the way back, and the rest of the space")
    return ExitCode.OK
