"""What the index keeps of a record: role, kind, searchable text, tool names, title candidate.

Text is only extracted, never stored: the FTS index is contentless and the words come back from
the raw archive when a session is shown.
"""

from __future__ import annotations

from ..base.text import clip
from .records import Message, Record, is_message

TYPE_CHECKING = False  # the name, not typing's: typing stays off the hook path
if TYPE_CHECKING:
    from typing import Any

MESSAGE_TYPES = frozenset({"user", "assistant", "system"})
EXTRACT_VERSION = 2
"""Bumped whenever what :func:`extract` puts in the index changes: archives indexed by another
version have their words derived again (``transcript.reindex``)."""
TITLE_CHARS = 200
_META_PREFIXES = ("<local-command-", "<system-reminder>", "Caveat:", "<task-notification>")
"""User-role text Claude Code writes itself (command output, reminders, background-task news)."""


class Extracted:
    __slots__ = ("kind", "prompt", "role", "text", "tools")

    def __init__(self, role: str, kind: str, text: str = "", tools: list[str] | None = None,
                 prompt: str | None = None) -> None:
        self.role, self.kind, self.text = role, kind, text
        self.tools: list[str] = tools if tools is not None else []
        self.prompt = prompt


def _strings(value: Any, out: list[str], budget: int) -> int:
    """Collect string leaves of a JSON value (tool inputs) up to ``budget`` characters."""
    if budget <= 0:
        return 0
    if isinstance(value, str):
        out.append(clip(value, budget))
        return budget - min(len(value), budget)
    if isinstance(value, dict):
        for item in value.values():
            budget = _strings(item, out, budget)
    elif isinstance(value, list):
        for item in value:
            budget = _strings(item, out, budget)
    return budget


def _flatten(value: Any, limit: int) -> str:
    parts: list[str] = []
    _strings(value, parts, limit)
    return " ".join(parts)


def _result_text(block: dict[str, Any], limit: int) -> str:
    content = block.get("content")
    if isinstance(content, str):
        return clip(content, limit)
    if isinstance(content, list):
        parts = [item.get("text", "") for item in content if isinstance(item, dict)]
        return clip(" ".join(p for p in parts if isinstance(p, str)), limit)
    return ""


def _blocks(message: Message) -> list[dict[str, Any]]:
    """Content blocks as plain dicts: validating each into a model cost more than the parse."""
    content = message.content
    if not isinstance(content, list):
        return []
    return [b for b in content if isinstance(b, dict)]


def tag_text(content: str, tag: str, closed: bool) -> str | None:
    """The text inside the first ``<tag>…</tag>``; unless ``closed``, an unclosed tag runs to
    the end. Plain ``find``: a regex compiled at import would cost every hook."""
    start = content.find(f"<{tag}>")
    if start < 0:
        return None
    start += len(tag) + 2
    end = content.find(f"</{tag}>", start)
    if end < 0:
        if closed:
            return None
        end = len(content)
    return content[start:end]


def _command_title(content: str) -> str | None:
    """A slash command with arguments as the user typed it (``/name args``): a prompt in all
    but form. A bare command (``/compact``) says nothing about the session, so no title."""
    name = tag_text(content, "command-name", closed=True)
    args = tag_text(content, "command-args", closed=False)
    if name is None or args is None or not args.strip():
        return None
    return f"{name.strip()} {args.strip()}"


def _user(record: Record, message: Message, limit: int) -> Extracted:
    content = message.content
    meta = bool(record.isMeta) or bool(record.isCompactSummary)
    if isinstance(content, str):
        if record.isCompactSummary:
            return Extracted("user", "summary", content)
        if meta or content.startswith(_META_PREFIXES):
            return Extracted("user", "meta", clip(content, limit))
        if content.startswith(("<command-name>", "<command-message>")):
            return Extracted("user", "command", content, prompt=_command_title(content))
        return Extracted("user", "prompt", content, prompt=content)
    texts: list[str] = []
    results: list[str] = []
    for block in _blocks(message):
        kind, text = block.get("type"), block.get("text")
        if kind == "tool_result":
            results.append(_result_text(block, limit))
        elif kind == "text" and isinstance(text, str):
            texts.append(text)
    if results:
        return Extracted("user", "tool_result", " ".join(results + texts))
    joined = " ".join(texts)
    if meta or not texts or joined.startswith(_META_PREFIXES):
        return Extracted("user", "meta", clip(joined, limit))
    return Extracted("user", "prompt", joined, prompt=joined)


def _assistant(message: Message, limit: int) -> Extracted:
    texts: list[str] = []
    tools: list[str] = []
    has_text = has_tool = False
    for block in _blocks(message):
        block_type = block.get("type")
        if block_type == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
            has_text = True
        elif block_type in ("tool_use", "server_tool_use"):
            has_tool = True
            name = block.get("name")
            if isinstance(name, str):
                tools.append(name)
                texts.append(name)
            texts.append(_flatten(block.get("input"), limit))
        elif block_type == "thinking" and isinstance(block.get("thinking"), str):
            texts.append(clip(block["thinking"], limit))
    kind = "reply" if has_text else "tool_use" if has_tool else "thinking"
    return Extracted("assistant", kind, " ".join(t for t in texts if t), tools)


def extract(record: Record, limit: int) -> Extracted | None:
    """Index data for a message record, or None for records that are archived raw only."""
    kind = record.type
    if kind not in MESSAGE_TYPES:
        return None
    if kind == "system":
        text = record.content if isinstance(record.content, str) else ""
        return Extracted("system", str(record.subtype or "system"), clip(text, limit))
    message = record.message
    if not is_message(message):
        return Extracted(kind, "meta")
    if kind == "user":
        return _user(record, message, limit)
    return _assistant(message, limit)


def make_title(prompt: str) -> str:
    return clip(prompt, TITLE_CHARS, flatten=True)


def usage_numbers(usage: Any) -> tuple[int, int, int, int] | None:
    """(input, output, cache creation, cache read) tokens, or None when absent or malformed."""
    if not isinstance(usage, dict):
        return None

    def num(key: str) -> int:
        value = usage.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    return (
        num("input_tokens"),
        num("output_tokens"),
        num("cache_creation_input_tokens"),
        num("cache_read_input_tokens"),
    )


_MAIN_ARGUMENTS = ("command", "file_path", "notebook_path", "url", "query", "pattern",
                   "description", "prompt", "skill", "subject")


def main_argument(tool_input: Any) -> str:
    """What a tool call is about, in its own words: the command, the file, the URL... ("" if
    none): how the handoff names a step and ``show`` a call."""
    if isinstance(tool_input, dict):
        for key in _MAIN_ARGUMENTS:
            value = tool_input.get(key)
            if isinstance(value, str) and value.strip():
                return " ".join(value.split())
    return ""


def content_text(content: Any, separator: str = " ") -> str:
    """The text of a message's or a tool result's content: a string, or its blocks' text."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return separator.join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    return ""
