"""What a file on disk is: a session transcript, a subagent transcript, or a sidecar file.

Decided from where Claude Code puts it (``<session>/subagents/``, ``<session>/tool-results/``,
``agent-*.jsonl``, a session id as the name). A loose file handed to ``import`` under another
name is settled by the first record that names its session, found while it is indexed.
"""

from __future__ import annotations

import re
import stat
from pathlib import Path

from .errors import InputError

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
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


def check_transcript_path(path: Path) -> None:
    """Refuse, before anything is stored, what cannot be a transcript."""
    try:
        info = path.stat()
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
        str(path).encode("utf-8")
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


def is_provisional(path: Path, info: FileInfo) -> bool:
    """True while a loose file is filed under its own name for want of a record naming its
    session (it was empty, or its first lines carry no ``sessionId``)."""
    return (info.line_mode and info.session_uuid == path.stem and not UUID_RE.match(path.stem)
            and path.parent.name != "subagents")


def classify(path: Path) -> FileInfo:
    parent = path.parent
    if parent.name in ("subagents", "tool-results"):
        session_dir = parent.parent
        kind = "subagent" if parent.name == "subagents" and path.suffix == ".jsonl" else "sidecar"
        return FileInfo(
            kind,
            session_dir.name,
            session_dir.parent.name,
            f"{session_dir.name}/{parent.name}/{path.name}",
        )
    if path.suffix != ".jsonl":
        return FileInfo("sidecar", path.stem, parent.name, path.name)
    kind = "subagent" if path.name.startswith("agent-") else "session"
    # A loose file is filed under its own name until the scan meets a record naming its
    # session (see is_provisional); Claude Code's own files are named by session id.
    return FileInfo(kind, path.stem, parent.name, path.name)


def session_files(project_folder: Path) -> list[Path]:
    """Every file of every session Claude Code keeps in one project folder, sessions first."""
    if not project_folder.is_dir():
        return []
    mains = sorted(p for p in project_folder.glob("*.jsonl") if p.is_file())
    extras: list[Path] = []
    for session_dir in sorted(p for p in project_folder.iterdir() if p.is_dir()):
        for sub in ("subagents", "tool-results"):
            folder = session_dir / sub
            if folder.is_dir():
                extras.extend(sorted(p for p in folder.iterdir() if p.is_file()))
    return mains + extras
