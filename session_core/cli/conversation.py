"""A session's conversation as ``show`` prints it: every message, in local time with its zone,
tool calls with their results (long ones folded to their first lines), failed ones marked.

Read from the archived transcript itself, record by record; the text is redacted like every
text that leaves the archive (``export --format jsonl`` alone gives the bytes as they are).
"""

from __future__ import annotations

import calendar
import time
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from ..base.text import clip
from ..handoff.redact import redact
from ..transcript.extract import content_text, main_argument
from ..transcript.records import Record, RecordError, is_message, parse_record

RESULT_LINES = 3
"""A tool's result is shown by this many lines; the rest is counted, not printed."""
LINE_CHARS = 160


def _local(stamp: Any) -> str:
    """A stored UTC time as local time with its zone (``2026-11-23 09:49:53 CET``)."""
    if not isinstance(stamp, str) or len(stamp) < 19:
        return "-"
    try:
        seconds = calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S"))
    except ValueError:
        return stamp[:19]
    return time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(seconds))


def _folded(text: str, indent: str) -> list[str]:
    lines = [line for line in text.splitlines() if line.strip()] or [""]
    shown = [f"{indent}{clip(line, LINE_CHARS, ellipsis=True)}" for line in lines[:RESULT_LINES]]
    if len(lines) > RESULT_LINES:
        shown.append(f"{indent}… {len(lines) - RESULT_LINES} more line(s)")
    return shown


def _lines_text(content: Any) -> str:
    return content_text(content, "\n")


def message_blocks(record: Record) -> Iterator[str]:
    """The lines one record adds to the conversation (none for what is not a message)."""
    message = record.message
    if record.type not in ("user", "assistant") or not is_message(message):
        return
    when = _local(record.timestamp)
    content = message.content
    if record.type == "user":
        if record.isCompactSummary:
            yield f"{when}  [compaction summary]"
            yield from _folded(_lines_text(content), "    ")
            return
        blocks = content if isinstance(content, list) else []
        results = [b for b in blocks if isinstance(b, dict) and b.get("type") == "tool_result"]
        for block in results:
            mark = "  ✗ error" if block.get("is_error") is True else "  →"
            yield f"{mark}"
            yield from _folded(_lines_text(block.get("content")), "      ")
        text = _lines_text(content) if not results else ""
        if text.strip() and not record.isMeta:
            yield f"{when}  user"
            yield from (f"    {line}" for line in text.splitlines() if line.strip())
        return
    for block in content if isinstance(content, list) else []:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text" and str(block.get("text", "")).strip():
            yield f"{when}  assistant"
            yield from (f"    {line}" for line in str(block["text"]).splitlines()
                        if line.strip())
        elif block.get("type") == "tool_use":
            said = clip(main_argument(block.get("input")), LINE_CHARS, ellipsis=True)
            yield f"{when}  tool {block.get('name')}: {said}"


def conversation(lines: Iterable[bytes], first: int = 0, last: int = 0) -> list[str]:
    """Every message's lines; ``first``/``last`` (0: all) keep the first or the last
    messages, and say how many were left out."""
    messages: list[list[str]] | deque[list[str]] = deque(maxlen=last) if last else []
    total = 0
    for line in lines:
        try:
            record = parse_record(line)
        except RecordError:
            continue
        shown = [redact(text) for text in message_blocks(record)]
        if not shown:
            continue
        total += 1
        if first and total > first:
            continue
        messages.append(shown)
    out = [text for message in messages for text in message]
    left_out = total - len(messages)
    if left_out and last:
        out.insert(0, f"({left_out} earlier message(s) not shown: --tail)")
    elif left_out:
        out.append(f"({left_out} more message(s) not shown: --limit)")
    return out
