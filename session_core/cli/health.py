"""The commands that look after the archive itself: ``verify``, ``backups``, ``recover``.

They open the archive file their own way (read-only, or not at all until they know what it
is), never through :func:`~.upgrade.open_for_command`, which would create or migrate it: a
damaged, emptied or foreign file must be reported as it was found.
"""

from __future__ import annotations

import argparse
import json
import os
import time

from ..base import locations
from ..base.clock import stamp_seconds
from ..base.errors import RECOVER_HINT, ExitCode, NotFoundError
from ..base.settings import load_settings
from ..store.backup import list_backups
from ..store.verify import DAMAGED, HEALTHY, MISSING, NOT_OURS, check_file
from .render import render_age

EXIT_CODES = {HEALTHY: ExitCode.OK, DAMAGED: ExitCode.BAD_DATABASE, NOT_OURS: ExitCode.NOT_OURS}


QUICK_SAMPLE = 3
"""Transcripts whose index ``verify --quick`` derives again and compares."""


def cmd_verify(args: argparse.Namespace) -> int:
    root = locations.project_root(args.project)
    settings = load_settings(root)
    path = locations.archive_path(root)
    report = check_file(path, quick=args.quick)
    compared = True
    if report.state == MISSING:
        raise NotFoundError(f"no archive at {path}",
                            ("install the suite in the project (python3 install.py PROJECT, or the"
                             " Claude Code plugin) or run 'session-core import' there first; or"
                             " fix --project"))
    if report.state == HEALTHY:
        from ..transcript.recheck import index_findings, settings_of_index

        derive = settings_of_index(path, settings)
        try:
            if derive is None:
                raise OSError("an older version built it; the next 'session-core' command"
                              " indexes it again")
            for finding in index_findings(path, derive, QUICK_SAMPLE if args.quick else None):
                report.add(finding)
        except OSError as exc:
            compared = False
            print(f"note: the index was not compared with the frames ({exc})")
    for finding in report.findings:
        print(finding.render())
    if report.state == HEALTHY:
        _remember_verified(root)
        checks = (["header", "schema", "quick_check", "the full-text index"] if args.quick
                  else ["integrity_check", "the full-text index", "every frame"])
        if compared:
            checks.append(f"the index of {QUICK_SAMPLE} transcripts against their lines"
                          if args.quick else "the index against the archived lines")
        what = ", ".join(checks[:-1]) + " and " + checks[-1]
        print(f"ok: {path} passed {what}")
    elif report.state == DAMAGED:
        print(f"Try: {RECOVER_HINT}")
    return int(EXIT_CODES[report.state])


def _remember_verified(project: str) -> None:
    """For ``doctor``: when the archive last passed ``verify`` (best effort)."""
    from ..base.fs import read_json_object, write_atomic
    from ..base.jsonlite import dumps
    from ..hook.live import health_file
    from .doctor import VERIFIED_AT

    path = health_file(locations.archive_dir(project))
    try:
        health = read_json_object(path)
        health[VERIFIED_AT] = time.time()
        write_atomic(path, dumps(health).encode())
    except OSError:
        pass


def cmd_backups(args: argparse.Namespace) -> int:
    root = locations.project_root(args.project)
    backups = list_backups(locations.archive_path(root), load_settings(root))
    if args.json:
        print(json.dumps([{"path": b.path, "taken": b.stamp, "label": b.label,
                           "size_bytes": b.size, "sessions": b.sessions,
                           "verified": b.usable, "problem": b.problem} for b in backups],
                         indent=2))
        return ExitCode.OK
    if not backups:
        print("No backups yet. 'session-core backup' takes one.")
        return ExitCode.OK
    print(f"{'TAKEN (UTC)':19}  {'AGE':>6}  {'SIZE':>10}  {'SESSIONS':>8}  STATE     FILE")
    for b in backups:
        taken = stamp_seconds(b.stamp)
        age = render_age(time.time() - taken)
        state = "verified" if b.usable else "DAMAGED "
        print(f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(taken)):19}  {age:>6}"
              f"  {b.size:>10,}"
              f"  {b.sessions:>8}  {state}  {os.path.basename(b.path)}")
        if b.problem:
            print(f"{'':51}{b.problem}")
    return ExitCode.OK


def cmd_doctor(args: argparse.Namespace) -> int:
    from .doctor import diagnose

    facts, problems = diagnose(args.project)
    print("\n".join(facts))
    for problem in problems:
        print(f"Problem      {problem}")
    if not problems:
        print("All good.")
    return int(ExitCode.FAILURE if problems else ExitCode.OK)


def cmd_recover(args: argparse.Namespace) -> int:
    from .recover import recover

    text, verified = recover(args.project, args.from_backup, args.dry_run)
    print(text)
    return int(ExitCode.OK if verified else ExitCode.BAD_DATABASE)
