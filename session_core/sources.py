"""What a file on disk is: a session transcript, a subagent transcript, or a sidecar file.

Decided from where Claude Code puts it (``<session>/subagents/``, ``<session>/tool-results/``,
``agent-*.jsonl``, a session id as the name). A loose file handed to ``import`` under another
name is settled by the first record that names its session, found while it is indexed.
"""

from __future__ import annotations

import os
import stat

from .errors import InputError

_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
SNIFF_BYTES = 64 * 1024


class FileInfo:
    __slots__ = ("kind", "project_folder", "rel_path", "session_uuid")

    def __init__(self, kind: str, session_uuid: str, project_folder: str, rel_path: str) -> None:
        self.kind = kind  # 'session' | 'subagent' | 'sidecar'
        self.session_uuid = session_uuid
        self.project_folder = project_folder
        self.rel_path = rel_path

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FileInfo) and all(
            getattr(self, k) == getattr(other, k) for k in self.__slots__)

    def __hash__(self) -> int:
        return hash(tuple(getattr(self, k) for k in self.__slots__))

    @property
    def line_mode(self) -> bool:
        """Transcripts are JSONL and indexed; sidecar files are archived as opaque bytes."""
        return self.kind != "sidecar"


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


def looks_like_uuid(text: str) -> bool:
    """8-4-4-4-12 hex digits, as Claude Code names session files (no regex: every hook would
    pay to compile one it rarely uses)."""
    digits = text.replace("-", "")
    return (len(text) == 36 and len(digits) == 32 and _HEX_DIGITS.issuperset(digits)
            and all(text[i] == "-" for i in (8, 13, 18, 23)))


def _stem_and_suffix(name: str) -> tuple[str, str]:
    """``Path.stem`` and ``Path.suffix`` of a file name, without importing pathlib."""
    dot = name.rfind(".")
    return (name[:dot], name[dot:]) if 0 < dot < len(name) - 1 else (name, "")


def is_provisional(path: str, info: FileInfo) -> bool:
    """True while a loose file is filed under its own name for want of a record naming its
    session (it was empty, or its first lines carry no ``sessionId``)."""
    folder, name = os.path.split(path)
    stem = _stem_and_suffix(name)[0]
    return (info.line_mode and info.session_uuid == stem and not looks_like_uuid(stem)
            and os.path.basename(folder) != "subagents")


def classify(path: str) -> FileInfo:
    """``path`` is absolute; only its last three components matter."""
    folder, name = os.path.split(path)
    stem, suffix = _stem_and_suffix(name)
    session_dir, parent = os.path.split(folder)
    if parent in ("subagents", "tool-results"):
        session = os.path.basename(session_dir)
        kind = "subagent" if parent == "subagents" and suffix == ".jsonl" else "sidecar"
        return FileInfo(kind, session, os.path.basename(os.path.dirname(session_dir)),
                        f"{session}/{parent}/{name}")
    if suffix != ".jsonl":
        return FileInfo("sidecar", stem, parent, name)
    kind = "subagent" if name.startswith("agent-") else "session"
    # A loose file is filed under its own name until the scan meets a record naming its
    # session (see is_provisional); Claude Code's own files are named by session id.
    return FileInfo(kind, stem, parent, name)

