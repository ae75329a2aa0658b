"""What can be ingested: a regular, readable file with a UTF-8 name that is not binary.

Checked before anything is stored, so ``session-core import`` refuses a wrong path up front
instead of archiving an image or a directory listing as a session.
"""

from __future__ import annotations

import os
import stat

from ..base.errors import InputError

SNIFF_BYTES = 64 * 1024


def check_transcript_path(path: str) -> None:
    """Refuse, before anything is stored, what cannot be a transcript."""
    try:
        info = os.stat(path)
    except FileNotFoundError as exc:
        raise InputError(f"{path} does not exist", "check the path") from exc
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc}", "check its permissions") from exc
    if stat.S_ISDIR(info.st_mode):
        raise InputError(
            f"{path} is a directory, not a transcript",
            "name .jsonl files, or run 'session-core import' without paths to backfill the project",
        )
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{path} is not a regular file", "name a .jsonl transcript")
    try:
        path.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InputError(f"the name of {path!r} is not valid UTF-8",
                         "rename the file (Claude Code itself names transcripts by id)") from exc
    try:
        with open(path, "rb") as handle:
            sample = handle.read(SNIFF_BYTES)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc}", "check its permissions") from exc
    if looks_binary(sample):
        raise InputError(
            f"{path} is a binary file, not a JSONL transcript", "name a .jsonl transcript"
        )


def looks_binary(sample: bytes) -> bool:
    """NUL bytes or mostly undecodable bytes; one damaged line in a transcript is not binary."""
    if b"\x00" in sample:
        return True
    if not sample:
        return False
    text = sample.decode("utf-8", errors="replace")
    return text.count("\ufffd") > max(8, len(text) // 100)
