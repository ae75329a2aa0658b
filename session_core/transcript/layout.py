"""Claude Code's folder layout, in one place: where it keeps a project's transcripts, what kind
each file is (and whether it can be a transcript at all), and where a file of a session goes
back to.

``<config>/projects/<project folder>/<session>.jsonl`` is a session's transcript; beside it,
``<session>/subagents/agent-*.jsonl`` (+ ``.meta.json``) its subagents and
``<session>/tool-results/`` large tool outputs; Claude Code 2.0 and older kept subagents as
``agent-*.jsonl`` at the top. ``<config>`` is ``$CLAUDE_CONFIG_DIR`` or ``~/.claude``. The
folder name encodes the project path lossily, so a project's real path is read from its
records' ``cwd``, never decoded from the name.
"""

from __future__ import annotations

import os
import stat

from ..base.errors import InputError
from ..base.jsonlite import loads

TYPE_CHECKING = False  # the name, not typing's: typing stays off the hook path
if TYPE_CHECKING:
    from ..base.fs import StrPath

SUBAGENTS = "subagents"
TOOL_RESULTS = "tool-results"
TRANSCRIPT_SUFFIX = ".jsonl"
_FOLDER_NAME_MAX = 200
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


# --- where a project's transcripts are --------------------------------------------------------


def claude_config_dir() -> str:
    override = os.environ.get("CLAUDE_CONFIG_DIR")
    return os.path.expanduser(override) if override else os.path.expanduser("~/.claude")


def projects_dir(configured: str | None = None) -> str:
    """``projects/`` under the ``claude_config_dir`` setting if given, else Claude Code's own."""
    if configured:
        return os.path.join(os.path.expanduser(configured), "projects")
    return os.path.join(claude_config_dir(), "projects")


def encode_project_folder(project: StrPath) -> str:
    """Claude Code's folder name for a project: every non-alphanumeric character becomes '-'.

    Names past 200 characters get a hash suffix whose recipe is not documented, so callers that
    need the real folder use :func:`project_folder`, which matches on the prefix.
    """
    return "".join(c if c.isascii() and c.isalnum() else "-" for c in os.fspath(project))


def project_folder(project: StrPath, projects: StrPath | None = None) -> str:
    """The folder under Claude Code's ``projects/`` that holds this project's transcripts."""
    root = os.fspath(projects) if projects else projects_dir()
    name = encode_project_folder(project)
    if len(name) <= _FOLDER_NAME_MAX:
        return os.path.join(root, name)
    prefix = name[:_FOLDER_NAME_MAX]
    if os.path.isdir(root):
        for candidate in sorted(os.listdir(root)):
            if candidate.startswith(prefix) and os.path.isdir(os.path.join(root, candidate)):
                return os.path.join(root, candidate)
    return os.path.join(root, prefix)


def transcript_in(folder: str, session_uuid: str) -> str:
    """Where a session's own transcript is in its project folder (it may not exist yet)."""
    return os.path.join(folder, session_uuid + TRANSCRIPT_SUFFIX)


def top_level_transcripts(folder: str) -> list[str]:
    """The ``*.jsonl`` files at the top of a project folder: sessions, and old-style subagents."""
    try:
        return [entry.path for entry in os.scandir(folder)
                if entry.name.endswith(TRANSCRIPT_SUFFIX) and entry.is_file()]
    except OSError:
        return []


def folder_files(folder: str) -> list[str]:
    """Every file of every session Claude Code keeps in one project folder, sessions first."""
    if not os.path.isdir(folder):
        return []
    extras: list[str] = []
    for session_dir in sorted(e.path for e in os.scandir(folder) if e.is_dir()):
        for sub in (SUBAGENTS, TOOL_RESULTS):
            inside = os.path.join(session_dir, sub)
            if os.path.isdir(inside):
                extras.extend(sorted(e.path for e in os.scandir(inside) if e.is_file()))
    return sorted(top_level_transcripts(folder)) + extras


def is_kept_file(folder: str, path: str) -> bool:
    """Whether ``path`` is one of the files :func:`folder_files` lists for ``folder`` (a
    session's transcript at the top, a file of its ``subagents/`` or ``tool-results/``),
    judged by its place alone: what ``watch`` follows as Claude Code writes it."""
    parts = os.path.relpath(path, folder).split(os.sep)
    if parts[0] in (os.curdir, os.pardir):
        return False
    if len(parts) == 1:
        return parts[0].endswith(TRANSCRIPT_SUFFIX)
    return len(parts) == 3 and parts[1] in (SUBAGENTS, TOOL_RESULTS)


def folder_cwd(folder: str) -> str | None:
    """The project directory a Claude Code folder belongs to, read from its records' ``cwd``
    (the folder's name is a lossy encoding of the path)."""
    for transcript in sorted(top_level_transcripts(folder)):
        try:
            with open(transcript, "rb") as handle:
                for _, line in zip(range(50), handle, strict=False):
                    try:
                        record = loads(line)
                    except (ValueError, RecursionError):
                        continue
                    if isinstance(record, dict) and isinstance(record.get("cwd"), str):
                        return str(record["cwd"])
        except OSError:
            continue
    return None


# --- what a file is ---------------------------------------------------------------------------


class FileInfo:
    """What a file's place says it is: kind, session, project folder, path inside that folder."""

    __slots__ = ("kind", "project_folder", "rel_path", "session_uuid")

    def __init__(self, kind: str, session_uuid: str, project_folder: str, rel_path: str) -> None:
        self.kind = kind  # 'session' | 'subagent' | 'sidecar'
        self.session_uuid = session_uuid
        self.project_folder = project_folder
        self.rel_path = rel_path


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


def classify(path: str) -> FileInfo:
    """``path`` is absolute; only its last three components matter."""
    folder, name = os.path.split(path)
    stem, suffix = _stem_and_suffix(name)
    session_dir, parent = os.path.split(folder)
    if parent in (SUBAGENTS, TOOL_RESULTS):
        session = os.path.basename(session_dir)
        kind = "subagent" if parent == SUBAGENTS and suffix == TRANSCRIPT_SUFFIX else "sidecar"
        return FileInfo(kind, session, os.path.basename(os.path.dirname(session_dir)),
                        f"{session}/{parent}/{name}")
    if suffix != TRANSCRIPT_SUFFIX:
        return FileInfo("sidecar", stem, parent, name)
    kind = "subagent" if name.startswith("agent-") else "session"
    # A loose file is filed under its own name until ingest meets a record naming its
    # session (see is_provisional); Claude Code's own files are named by session id.
    return FileInfo(kind, stem, parent, name)


def is_provisional(path: str, kind: str, session_uuid: str) -> bool:
    """True while a loose file is filed under its own name for want of a record naming its
    session (it was empty, or its first lines carry no ``sessionId``)."""
    folder, name = os.path.split(path)
    stem = _stem_and_suffix(name)[0]
    return (kind != "sidecar" and session_uuid == stem and not looks_like_uuid(stem)
            and os.path.basename(folder) != SUBAGENTS)


def settled_kind(path: str, sidechain_agent: bool) -> str:
    """A loose file's kind once a record named its session: a subagent's if the record says
    so or the name does, else a session transcript."""
    return "subagent" if sidechain_agent or os.path.basename(path).startswith("agent-") \
        else "session"


# --- whether a file can be a transcript -------------------------------------------------------

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


def check_named_transcript(path: str) -> None:
    """A file someone named on the command line: besides :func:`check_transcript_path`, its
    first line must be a JSON object, as every transcript line is (``/etc/passwd`` is text but
    no transcript). An empty file is a transcript not written yet."""
    check_transcript_path(path)
    with open(path, "rb") as handle:
        sample = handle.read(SNIFF_BYTES)
    start = sample.removeprefix(b"\xef\xbb\xbf").lstrip()
    if start and not start.startswith(b"{"):
        raise InputError(f"{path} is not a Claude Code transcript (its first line is not a JSON"
                         " object)", "name a .jsonl transcript from ~/.claude/projects/")
    if start and not _holds_a_record(start):
        raise InputError(f"{path} is not a Claude Code transcript (none of its first lines is a"
                         " record Claude Code writes: a \"type\" with a \"sessionId\", \"uuid\""
                         " or \"message\")", "name a .jsonl transcript from ~/.claude/projects/")


_RECORD_KEYS = ("sessionId", "uuid", "message", "leafUuid", "messageId", "snapshot")
"""Fields records carry: every message has ``uuid`` and ``sessionId``, a summary ``leafUuid``,
a file-history snapshot (often a transcript's first lines) ``messageId`` and ``snapshot``."""


def _holds_a_record(sample: bytes) -> bool:
    """Whether ``sample`` (a file's first bytes) reads as a transcript: a line is an object
    with a string ``type`` and a field records carry (``package.json`` is an object, not a
    record). When the sample ends inside a line, the complete lines before it being typed
    objects is enough: a long first prompt must not get a real transcript refused."""
    from ..base.jsonlite import loads

    cut = len(sample) >= SNIFF_BYTES - 3 and not sample.endswith(b"\n")
    lines = [line for line in sample.split(b"\n") if line.strip()]
    complete = lines[:-1] if cut else lines
    if cut and not complete:
        return True  # one line longer than the sample: nothing to judge by, so not refused
    typed = True
    for line in complete:
        try:
            record = loads(line)
        except (ValueError, RecursionError):
            typed = False
            continue
        if not isinstance(record, dict) or not isinstance(record.get("type"), str):
            typed = False
            continue
        if any(key in record for key in _RECORD_KEYS):
            return True
    return cut and typed


def looks_binary(sample: bytes) -> bool:
    """NUL bytes or mostly undecodable bytes; one damaged line in a transcript is not binary."""
    if b"\x00" in sample:
        return True
    if not sample:
        return False
    text = sample.decode("utf-8", errors="replace")
    return text.count("\ufffd") > max(8, len(text) // 100)


# --- where a file goes back to ----------------------------------------------------------------

MAX_NAME = 200


def is_plain_name(text: str) -> bool:
    """One path component: no separator, no NUL, not ``.``/``..``, not too long."""
    return (0 < len(text) <= MAX_NAME and text not in (".", "..")
            and not any(char in text for char in "/\\\x00"))


def restore_path(kind: str, rel_path: str, session_uuid: str) -> str:
    """Where Claude Code looks for a file of this session, relative to its project folder:
    ``<session>.jsonl`` and ``<session>/subagents/...``, whatever the file was called when it
    was imported (``claude --resume`` finds sessions by id). The id comes from the transcript's
    own records, so it is checked before it names a path: ``../../x`` must not escape."""
    if not is_plain_name(session_uuid):
        raise InputError(f"session id {session_uuid[:80]!r} cannot name a file (it has a path"
                         " separator, NUL, or is too long)",
                         "export it with 'session-core export ID -o FILE' instead")
    name = rel_path.rsplit("/", 1)[-1]
    if kind == "session":
        return session_uuid + TRANSCRIPT_SUFFIX
    if rel_path.startswith(f"{session_uuid}/"):
        return rel_path
    return f"{session_uuid}/{SUBAGENTS if kind == 'subagent' else TOOL_RESULTS}/{name}"
