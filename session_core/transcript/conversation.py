"""A session as a person reads it: prompts, replies, tool calls with their results, and the
subagent runs a call started, nested under it. What ``show`` and ``export`` render.

Claude Code writes one record per content block, a tool's result as a separate user record,
and each subagent to a file of its own; a reader wants one call with its result, and the
subagent's work where it was asked for. So: a tool result is paired with its call by
``tool_use_id``; a subagent file is tied to the ``Task``/``Agent`` call that started it by its
agent id, which the call's result names (``toolUseResult.agentId``) and which the
``agent_progress`` records name with the call's id (``parentToolUseID``); a file neither names
is tied by its first prompt, the call's ``prompt``, and else kept at the end, unlinked.
Compaction helpers (``agent-acompact-*``) are never started by a call: they end up there too.

Pure: lines in, objects out. Text is as the transcript has it (nothing redacted, nothing cut):
what leaves the archive is cleaned by the command that sends it.
"""

from __future__ import annotations

from .extract import content_text, extract, tag_text
from .records import Record, RecordError, is_message, parse_object_leniently

TYPE_CHECKING = False  # the name, not typing's
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from typing import Any

PROMPT = "prompt"
"""What the user typed (or queued, or answered)."""
REPLY = "reply"
THINKING = "thinking"
"""The model's thinking: kept, and left out by the renderers unless asked for."""
TOOL = "tool"
SUMMARY = "summary"
"""The compaction summary a compacted session continues from."""
COMMAND = "command"
"""A slash command as typed (``/compact focus on tests``)."""
COMMAND_OUTPUT = "command_output"
"""What a local command printed (``<local-command-stdout>``)."""
META = "meta"
"""Text Claude Code wrote itself in the user's name: caveats, reminders, skill bodies."""
KINDS = (PROMPT, REPLY, THINKING, TOOL, SUMMARY, COMMAND, COMMAND_OUTPUT, META)

SUBAGENT_TOOLS = frozenset({"Task", "Agent"})
"""The tool that starts a subagent (renamed ``Task`` -> ``Agent`` in 2.1.63)."""
_RESULT_SUFFIX = "_tool_result"
"""Server-side tools (web search...) answer in the assistant's own content."""


class Image:
    """A base64 image as the transcript holds it (a pasted screenshot, a Read of a PNG)."""

    __slots__ = ("data", "media_type")

    def __init__(self, media_type: str, data: str) -> None:
        self.media_type, self.data = media_type, data


class ToolResult:
    __slots__ = ("images", "is_error", "text", "timestamp", "uuid")

    def __init__(self, text: str, is_error: bool, images: list[Image], timestamp: str | None,
                 uuid: str | None) -> None:
        self.text, self.is_error, self.images = text, is_error, images
        self.timestamp, self.uuid = timestamp, uuid


class ToolCall:
    """One call; ``result`` is None until (unless) its result arrived, ``runs`` the subagent
    runs it started (one, normally)."""

    __slots__ = ("id", "input", "name", "result", "runs")

    def __init__(self, call_id: str, name: str, tool_input: Any) -> None:
        self.id, self.name, self.input = call_id, name, tool_input
        self.result: ToolResult | None = None
        self.runs: list[Run] = []


class Message:
    """One thing said or done, in transcript order. ``call`` is set for :data:`TOOL`;
    ``is_error`` marks an API error in the model's place."""

    __slots__ = ("call", "cwd", "images", "is_error", "kind", "model", "parent_uuid", "text",
                 "timestamp", "uuid")

    def __init__(self, kind: str, text: str, record: Record, data: dict[str, Any],
                 call: ToolCall | None = None, images: list[Image] | None = None) -> None:
        self.kind, self.text, self.call = kind, text, call
        self.images: list[Image] = images or []
        self.timestamp: str | None = _string(record.timestamp)
        self.uuid: str | None = record.uuid
        self.parent_uuid: str | None = _string(data.get("parentUuid"))
        self.cwd: str | None = _string(record.cwd)
        """Where Claude Code was when it was said (a session may ``cd``)."""
        message = record.message
        self.model: str | None = _string(message.model) if is_message(message) else None
        self.is_error = data.get("isApiErrorMessage") is True


class Run:
    """A subagent's transcript: ``call_id`` names the call that started it, None when no
    call could be found (then it is listed at the end)."""

    __slots__ = ("agent_id", "call_id", "messages", "source")

    def __init__(self, source: str, agent_id: str | None, messages: list[Message]) -> None:
        self.source, self.agent_id, self.messages = source, agent_id, messages
        self.call_id: str | None = None

    @property
    def compaction(self) -> bool:
        """A compaction helper's run: it wrote the summary the session continued from."""
        return (self.agent_id or "").startswith("acompact") or "agent-acompact" in self.source


class Conversation:
    __slots__ = ("messages", "unlinked")

    def __init__(self, messages: list[Message], unlinked: list[Run]) -> None:
        self.messages, self.unlinked = messages, unlinked

    def walk(self) -> Iterator[Message]:
        """Every message, those of subagent runs too (each run after the call that started
        it, unlinked runs last)."""
        yield from _walk(self.messages)
        for run in self.unlinked:
            yield from _walk(run.messages)


def _walk(messages: list[Message]) -> Iterator[Message]:
    for message in messages:
        yield message
        for run in message.call.runs if message.call else ():
            yield from _walk(run.messages)


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


class _File:
    """One transcript read: its messages, its calls by id, and the agent ids its records tie
    to calls."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.calls: dict[str, ToolCall] = {}
        self.links: dict[str, str] = {}
        """agent id -> id of the call that started it."""
        self.agent_id: str | None = None
        self._seen: set[str] = set()

    def add(self, line: bytes) -> None:
        try:
            data = parse_object_leniently(line)
            record = Record(data)
        except RecordError:
            return  # a torn or foreign line: the archive keeps it, a reader skips it
        if record.uuid is not None:
            if record.uuid in self._seen:
                return  # a resumed session's replayed history
            self._seen.add(record.uuid)
        if self.agent_id is None and isinstance(record.agentId, str):
            self.agent_id = record.agentId
        self._learn_link(record, data)
        if record.type == "assistant":
            self._assistant(record, data)
        elif record.type == "user":
            self._user(record, data)
        elif record.type == "system" and record.subtype == "local_command":
            self._local_command(record, data)

    def _learn_link(self, record: Record, data: dict[str, Any]) -> None:
        progress = data.get("data")
        parent = data.get("parentToolUseID")
        if (record.type == "progress" and isinstance(progress, dict)
                and isinstance(progress.get("agentId"), str) and isinstance(parent, str)):
            self.links.setdefault(progress["agentId"], parent)
        result = data.get("toolUseResult")
        if record.type == "user" and isinstance(result, dict) \
                and isinstance(result.get("agentId"), str):
            for block in _blocks(record):
                if block.get("type") == "tool_result" and isinstance(block.get("tool_use_id"),
                                                                      str):
                    self.links[result["agentId"]] = block["tool_use_id"]

    def _assistant(self, record: Record, data: dict[str, Any]) -> None:
        for block in _blocks(record):
            kind = block.get("type")
            if kind == "text" and isinstance(block.get("text"), str) and block["text"].strip():
                self.messages.append(Message(REPLY, block["text"], record, data))
            elif kind == "thinking" and isinstance(block.get("thinking"), str):
                self.messages.append(Message(THINKING, block["thinking"], record, data))
            elif kind == "redacted_thinking":
                self.messages.append(Message(THINKING, "", record, data))
            elif kind in ("tool_use", "server_tool_use") and isinstance(block.get("id"), str):
                call = ToolCall(block["id"], str(block.get("name") or "?"), block.get("input"))
                self.calls[call.id] = call
                self.messages.append(Message(TOOL, "", record, data, call))
            elif isinstance(kind, str) and kind.endswith(_RESULT_SUFFIX):
                self._result(record, data, block)
        message = record.message
        if is_message(message) and isinstance(message.content, str) and message.content.strip():
            self.messages.append(Message(REPLY, message.content, record, data))

    def _user(self, record: Record, data: dict[str, Any]) -> None:
        message = record.message
        if not is_message(message):
            return
        blocks = _blocks(record)
        for block in blocks:
            if block.get("type") == "tool_result":
                self._result(record, data, block)
        rest = [b for b in blocks if b.get("type") != "tool_result"]
        text = message.content if isinstance(message.content, str) else content_text(
            [b for b in rest if b.get("type") == "text"], "\n")
        images = _images(rest)
        if not text.strip() and not images:
            return
        kind = _user_kind(record, text, len(rest) < len(blocks))
        shown = _command_line(text) if kind == COMMAND else text
        self.messages.append(Message(kind, shown, record, data, images=images))

    def _result(self, record: Record, data: dict[str, Any], block: dict[str, Any]) -> None:
        call_id = block.get("tool_use_id")
        content = block.get("content")
        result = ToolResult(content_text(content, "\n"), block.get("is_error") is True,
                            _images(content if isinstance(content, list) else []),
                            _string(record.timestamp), record.uuid)
        call = self.calls.get(call_id) if isinstance(call_id, str) else None
        if call is None:  # its call is not in this file (cut off, or a foreign line)
            call = ToolCall(call_id if isinstance(call_id, str) else "", "?", None)
            self.messages.append(Message(TOOL, "", record, data, call))
        if call.result is None:
            call.result = result

    def _local_command(self, record: Record, data: dict[str, Any]) -> None:
        text = record.content if isinstance(record.content, str) else ""
        if text.startswith(("<command-name>", "<command-message>")):
            self.messages.append(Message(COMMAND, _command_line(text), record, data))
        elif text.strip():
            self.messages.append(Message(COMMAND_OUTPUT, _command_output(text), record, data))


def _blocks(record: Record) -> list[dict[str, Any]]:
    message = record.message
    content = message.content if is_message(message) else None
    return [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []


def _images(blocks: list[Any]) -> list[Image]:
    found = []
    for block in blocks:
        source = block.get("source") if isinstance(block, dict) \
            and block.get("type") == "image" else None
        if isinstance(source, dict) and source.get("type") == "base64" \
                and isinstance(source.get("media_type"), str) \
                and isinstance(source.get("data"), str):
            found.append(Image(source["media_type"], source["data"]))
    return found


def _user_kind(record: Record, text: str, beside_results: bool) -> str:
    """As the index classifies it (``extract``), with command output told from other meta."""
    if text.startswith(("<local-command-stdout>", "<local-command-stderr>")):
        return COMMAND_OUTPUT
    if beside_results:  # "[Request interrupted by user for tool use]" and the like
        return META
    extracted = extract(record, 0)
    kind = extracted.kind if extracted is not None else META
    return {"summary": SUMMARY, "command": COMMAND, "prompt": PROMPT}.get(kind, META)


def _command_line(text: str) -> str:
    """``/name args`` as the user typed it."""
    name = (tag_text(text, "command-name", closed=True) or "").strip()
    args = (tag_text(text, "command-args", closed=False) or "").strip()
    return f"{name} {args}".strip() if name else text


def _command_output(text: str) -> str:
    for tag in ("local-command-stdout", "local-command-stderr"):
        inner = tag_text(text, tag, closed=False)
        if inner is not None:
            return inner
    return text


def _read(lines: Iterable[bytes]) -> _File:
    found = _File()
    for line in lines:
        if line.strip():
            found.add(line)
    return found


def _agent_of(source: str) -> str | None:
    """``agent-<id>.jsonl`` names its agent when no record does."""
    name = source.rsplit("/", 1)[-1]
    if name.startswith("agent-") and name.endswith(".jsonl"):
        return name[len("agent-"):-len(".jsonl")]
    return None


def read_conversation(main: Iterable[bytes],
                      subagents: Iterable[tuple[str, Iterable[bytes]]] = ()) -> Conversation:
    """The session's conversation from its own transcript's lines and each subagent file's
    (``(name, lines)``), each run nested under the call that started it."""
    top = _read(main)
    files = [top]
    runs: list[tuple[Run, _File]] = []
    for source, lines in subagents:
        read = _read(lines)
        files.append(read)
        runs.append((Run(source, read.agent_id or _agent_of(source), read.messages), read))
    calls = {call_id: call for read in files for call_id, call in read.calls.items()}
    links = {agent: call for read in files for agent, call in read.links.items()}
    owner = {call_id: run for run, read in runs for call_id in read.calls}
    unlinked = []
    for run, _ in runs:
        call = _starting_call(run, calls, links)
        if call is None or _within(owner, call.id, run):
            unlinked.append(run)
            continue
        run.call_id = call.id
        call.runs.append(run)
    for run in unlinked[:]:  # no id names it: the call whose prompt it was given
        call = _prompted_call(run, calls.values())
        if call is not None and not _within(owner, call.id, run):
            run.call_id = call.id
            call.runs.append(run)
            unlinked.remove(run)
    return Conversation(top.messages, unlinked)


def _starting_call(run: Run, calls: dict[str, ToolCall],
                   links: dict[str, str]) -> ToolCall | None:
    call_id = links.get(run.agent_id or "")
    return calls.get(call_id) if call_id is not None else None


def _prompted_call(run: Run, calls: Iterable[ToolCall]) -> ToolCall | None:
    first = next((m.text for m in run.messages if m.kind == PROMPT), None)
    if not first:
        return None
    for call in calls:
        if call.name in SUBAGENT_TOOLS and not call.runs and isinstance(call.input, dict) \
                and isinstance(call.input.get("prompt"), str) \
                and call.input["prompt"].strip() == first.strip():
            return call
    return None


def _within(owner: dict[str, Run], call_id: str, run: Run) -> bool:
    """Whether the call is inside ``run`` itself (or a run nested in it): attaching would
    make a loop, which only a forged transcript has."""
    seen: set[int] = set()
    current = owner.get(call_id)
    while current is not None and id(current) not in seen:
        if current is run:
            return True
        seen.add(id(current))
        current = owner.get(current.call_id or "")
    return False
