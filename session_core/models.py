"""The transcript records the core reads, parsed with the standard library.

Lenient where Claude Code varies (unknown fields ignored, most fields kept as whatever JSON gave
and checked where used), strict where a wrong type would make us store garbage: an identity
(``uuid``, ``sessionId``) that is not a string makes the line unindexable rather than mis-keyed.

Plain classes and ``jsonlite.loads`` (``json.loads`` without importing ``json``) rather than a
pydantic model: every hook process parses records, and importing pydantic alone costs several
times a bare interpreter start (measured: ~150 ms of a ~200 ms hook). Bulk imports use the
pydantic parser of ``models_bulk``, which is faster per line once imported.
"""

from __future__ import annotations

from .jsonlite import dumps, loads

TYPE_CHECKING = False  # not typing's: importing typing costs a hook ~2 ms
if TYPE_CHECKING:
    from typing import Any, TypeGuard



class RecordError(ValueError):
    """A line that is not a JSON object, or whose identity fields have the wrong type."""


class Message:
    """``message`` of a user/assistant record; only what extraction and usage need."""

    __slots__ = ("content", "id", "model", "role", "usage")

    def __init__(self, data: dict[str, Any]) -> None:
        get = data.get
        self.id: Any = get("id")
        self.role: Any = get("role")
        self.model: Any = get("model")
        self.content: Any = get("content")
        self.usage: Any = get("usage")


_MESSAGE_CLASSES: tuple[type, ...] = (Message,)


def register_message_class(cls: type) -> None:
    """Another parser's message class (:mod:`session_core.models_bulk`) counts as a Message."""
    global _MESSAGE_CLASSES
    if cls not in _MESSAGE_CLASSES:
        _MESSAGE_CLASSES = (*_MESSAGE_CLASSES, cls)


def is_message(value: Any) -> TypeGuard[Message]:
    """A parsed ``message`` object, as opposed to a malformed value kept as plain JSON."""
    return isinstance(value, _MESSAGE_CLASSES)


class Record:
    """One line of a transcript, any ``type``; only what the index needs is kept."""

    __slots__ = (
        "agentId",
        "content",
        "costUSD",
        "cwd",
        "data",
        "gitBranch",
        "isCompactSummary",
        "isMeta",
        "isSidechain",
        "message",
        "sessionId",
        "startTime",
        "subtype",
        "timestamp",
        "totalCostUSD",
        "type",
        "uuid",
        "version",
    )

    def __init__(self, data: dict[str, Any]) -> None:
        get = data.get
        self.uuid: str | None = _identity(get("uuid"), "uuid")
        self.sessionId: str | None = _identity(get("sessionId"), "sessionId")
        self.type: Any = get("type")
        self.timestamp: Any = get("timestamp")
        self.cwd: Any = get("cwd")
        self.gitBranch: Any = get("gitBranch")
        self.version: Any = get("version")
        self.isSidechain: Any = get("isSidechain")
        self.isMeta: Any = get("isMeta")
        self.isCompactSummary: Any = get("isCompactSummary")
        self.agentId: Any = get("agentId")
        self.subtype: Any = get("subtype")
        self.content: Any = get("content")
        message = get("message")
        self.message: Message | Any = Message(message) if isinstance(message, dict) else message
        self.costUSD: Any = get("costUSD")
        self.totalCostUSD: Any = get("totalCostUSD")
        self.startTime: Any = get("startTime")
        self.data: dict[str, Any] = data
        """The whole parsed line, for readers (the handoff) that need more than the index."""


def _identity(value: Any, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise RecordError(f"{name} should be a string, not {type(value).__name__}")


def parse_record(line: bytes) -> Record:
    """Parse one JSONL line; raises :class:`RecordError` for non-JSON or non-objects."""
    try:
        data = loads(line)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError
        raise RecordError(f"invalid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise RecordError(f"a record must be a JSON object, not {type(data).__name__}")
    if _has_surrogate_escape(line):
        _refuse_lone_surrogates(data)
    if b"\xed" in line:  # the lead byte of UTF-8-encoded surrogates (and of U+D000-U+D7FF)
        try:
            line.decode("utf-8")  # json decodes with 'surrogatepass' and would let them in
        except UnicodeDecodeError:
            raise RecordError("invalid UTF-8: an encoded surrogate") from None
    return Record(data)


_SURROGATE_SECOND = frozenset(b"89abcdefABCDEF")


def _has_surrogate_escape(line: bytes) -> bool:
    """A ``\\ud800``-``\\udfff`` escape anywhere (maybe a false alarm after ``\\\\``): a
    ``find`` loop, not a regex a hook would have to import and compile for this rare case."""
    for lead in (b"\\ud", b"\\uD"):
        at = line.find(lead)
        while at >= 0:
            if at + 3 < len(line) and line[at + 3] in _SURROGATE_SECOND:
                return True
            at = line.find(lead, at + 3)
    return False


def _refuse_lone_surrogates(data: dict[str, Any]) -> None:
    """``json`` accepts an escaped lone surrogate, SQLite cannot store it: refuse the line
    (pairs, the usual way to escape an emoji, re-encode fine)."""
    try:
        dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise RecordError("invalid JSON: lone surrogate in a string escape") from None
    except RecursionError:
        raise RecordError("nested too deeply to check its string escapes") from None
