"""The transcript records the core reads, parsed with the standard library.

Lenient where Claude Code varies (unknown fields ignored, most fields kept as whatever JSON gave
and checked where used), strict where a wrong type would make us store garbage: an identity
(``uuid``, ``sessionId``) that is not a string makes the line unindexable rather than mis-keyed.

Plain classes and ``jsonlite.loads`` (``json.loads`` without importing ``json``) rather than a
pydantic model: every hook process parses records, and importing pydantic alone costs several
times a bare interpreter start (bench/README.md, the import ledger). Bulk imports use the
pydantic parser of ``records_bulk``, which is faster per line once imported; both parsers give
the same attributes (tests/test_parsing.py compares them over the whole corpus).
"""

from __future__ import annotations

from ..base.jsonlite import dumps, loads

TYPE_CHECKING = False  # the name, not typing's: typing stays off the hook path
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


class ToolUseResult:
    """``toolUseResult`` of a user record (a tool's structured result); only what the digest
    reads: the task a ``TaskCreate`` made, the tasks a ``TaskList`` listed."""

    __slots__ = ("task", "tasks")

    def __init__(self, data: dict[str, Any]) -> None:
        self.task: Any = data.get("task")
        self.tasks: Any = data.get("tasks")


_MESSAGE_CLASSES: tuple[type, ...] = (Message,)
_TOOL_RESULT_CLASSES: tuple[type, ...] = (ToolUseResult,)


def register_classes(message: type, tool_use_result: type) -> None:
    """Another parser's classes (:mod:`.records_bulk`) count as a Message and a ToolUseResult."""
    global _MESSAGE_CLASSES, _TOOL_RESULT_CLASSES
    if message not in _MESSAGE_CLASSES:
        _MESSAGE_CLASSES = (*_MESSAGE_CLASSES, message)
    if tool_use_result not in _TOOL_RESULT_CLASSES:
        _TOOL_RESULT_CLASSES = (*_TOOL_RESULT_CLASSES, tool_use_result)


def is_message(value: Any) -> TypeGuard[Message]:
    """A parsed ``message`` object, as opposed to a malformed value kept as plain JSON."""
    return isinstance(value, _MESSAGE_CLASSES)


def is_tool_use_result(value: Any) -> TypeGuard[ToolUseResult]:
    """A structured tool result, as opposed to the plain string a failed tool leaves."""
    return isinstance(value, _TOOL_RESULT_CLASSES)


class Record:
    """One line of a transcript, any ``type``; only what the index needs is kept."""

    __slots__ = (
        "agentId",
        "content",
        "costUSD",
        "cwd",
        "gitBranch",
        "isCompactSummary",
        "isMeta",
        "isSidechain",
        "level",
        "message",
        "operation",
        "sessionId",
        "startTime",
        "subtype",
        "timestamp",
        "toolUseResult",
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
        self.level: Any = get("level")
        self.operation: Any = get("operation")
        """``queue-operation`` records: enqueue, dequeue, remove."""
        result = get("toolUseResult")
        self.toolUseResult: ToolUseResult | Any = ToolUseResult(result) \
            if isinstance(result, dict) else result


def _identity(value: Any, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise RecordError(f"{name} should be a string, not {type(value).__name__}")


BOM = b"\xef\xbb\xbf"


def parse_record(line: bytes) -> Record:
    """Parse one JSONL line; raises :class:`RecordError` for non-JSON or non-objects. A UTF-8
    byte-order mark (an editor saved the file) is not part of the record; UTF-16 or -32 is
    not a transcript: both as the bulk parser has it."""
    return Record(parse_object(line))


def parse_object(line: bytes) -> dict[str, Any]:
    """The line's JSON object, checked as :func:`parse_record` checks it: for a reader that
    needs fields the index does not keep (``show`` and ``export`` read ``parentUuid``, how a
    subagent run is linked to its tool call)."""
    if line[:3] == BOM:
        line = line[3:]
    elif b"\x00" in line[:4]:
        raise RecordError("invalid JSON: not UTF-8")
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
    return data


def parse_object_leniently(line: bytes) -> dict[str, Any]:
    """:func:`parse_object`, with a lone surrogate escape (Claude Code cutting a text inside an
    emoji) read as U+FFFD: for readers (``show``, ``export``), which store nothing."""
    try:
        return parse_object(line)
    except RecordError:
        if not _has_surrogate_escape(line):
            raise
    try:
        text = dumps(loads(line), ensure_ascii=False)
    except (ValueError, RecursionError) as exc:
        raise RecordError(f"invalid JSON: {exc}") from None
    # a pair was joined by loads: what is left in the surrogate range is alone
    text = "".join("\ufffd" if "\ud800" <= char <= "\udfff" else char for char in text)
    return parse_object(text.encode("utf-8"))


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
