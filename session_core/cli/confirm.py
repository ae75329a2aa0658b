"""Asking before a command deletes from the archive (``forget``, ``cleanup``): ``--yes`` skips
the question; without a terminal to ask on, and without ``--yes``, the command refuses."""

from __future__ import annotations

import sys

from ..base.errors import UsageError


def confirmed(yes: bool, command: str, question: str) -> bool:
    """``yes`` (its ``--yes``), else the answer to ``question`` on the terminal: y or yes."""
    if yes:
        return True
    if not sys.stdin.isatty():
        raise UsageError(f"{command} asks before it deletes, and there is no terminal to ask on",
                         f"pass --yes to {command} without asking")
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip().lower() in ("y", "yes")
