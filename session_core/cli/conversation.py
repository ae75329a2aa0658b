"""A session's conversation as ``show`` prints it: every message, in local time with its zone,
tool calls with their results (long ones folded to their first lines), failed ones marked, and
each subagent run indented under the call that started it.

Rendered from the conversation model (``transcript.conversation``), read from the archived
transcripts and cleaned by ``cli.readable`` (redacted, no terminal escapes) before it gets here.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..base.clock import local_time
from ..base.text import clip
from ..transcript.conversation import (
    COMMAND,
    COMMAND_OUTPUT,
    META,
    PROMPT,
    REPLY,
    SUMMARY,
    TOOL,
    Conversation,
    Image,
    Message,
    Run,
    ToolCall,
)
from ..transcript.extract import main_argument

RESULT_LINES = 3
"""A tool's result is shown by this many lines; the rest is counted, not printed."""
LINE_CHARS = 160
NESTED = "    │ "
"""The margin of a subagent's lines under the call that started it."""
_FRAME = ("┌", "└")


def _folded(text: str, indent: str) -> list[str]:
    lines = [line for line in text.splitlines() if line.strip()] or [""]
    shown = [f"{indent}{clip(line, LINE_CHARS, ellipsis=True)}" for line in lines[:RESULT_LINES]]
    if len(lines) > RESULT_LINES:
        shown.append(f"{indent}… {len(lines) - RESULT_LINES} more line(s)")
    return shown


def _whole(text: str) -> list[str]:
    return [f"    {line}" for line in text.splitlines() if line.strip()]


def _images(images: list[Image], indent: str) -> list[str]:
    return [f"{indent}[image: {image.media_type}, {len(image.data) * 3 // 4:,} bytes]"
            for image in images]


def message_lines(message: Message) -> list[str]:
    """The lines one message adds (none for what ``show`` leaves out: Claude Code's notes
    and, unless asked for, thinking)."""
    when = local_time(message.timestamp)
    kind = message.kind
    if kind == TOOL and message.call is not None:
        return [f"{when}  {_call_line(message.call)}", *_call_body(message.call)]
    if kind == PROMPT:
        return [f"{when}  user", *_whole(message.text), *_images(message.images, "    ")]
    if kind == REPLY:
        mark = "  ✗ API error" if message.is_error else ""
        return [f"{when}  assistant{mark}", *_whole(message.text)]
    if kind == SUMMARY:
        return [f"{when}  [compaction summary]", *_folded(message.text, "    ")]
    if kind == COMMAND:
        return [f"{when}  command {clip(message.text, LINE_CHARS, flatten=True, ellipsis=True)}"]
    if kind == COMMAND_OUTPUT and message.text.strip():
        return [f"{when}  command output", *_folded(message.text, "    ")]
    return []


def _call_line(call: ToolCall) -> str:
    if call.name == "?" and call.input is None:
        return "tool result (its call is not in the transcript)"
    said = clip(main_argument(call.input), LINE_CHARS, flatten=True, ellipsis=True)
    return f"tool {call.name}: {said}"


def _call_body(call: ToolCall) -> Iterator[str]:
    for run in call.runs:
        yield from (f"{NESTED[:4]}{line}" if line.startswith(_FRAME) else f"{NESTED}{line}"
                    for line in run_lines(run))
    result = call.result
    if result is None:
        yield "  … no result (the call was cut off, or is still running)"
        return
    yield "  ✗ error" if result.is_error else "  →"
    yield from _folded(result.text, "      ")
    yield from _images(result.images, "      ")


def run_title(run: Run) -> str:
    """What a subagent run is, in a few words."""
    who = f"compaction helper {run.agent_id or run.source}" if run.compaction else \
        f"subagent {run.agent_id or run.source}"
    said = sum(1 for message in run.messages if message.kind != META)
    return f"{who}: {said} message(s)"


def run_lines(run: Run) -> list[str]:
    """A run framed: ``┌`` title, its messages, ``└`` end."""
    body = [line for message in run.messages for line in message_lines(message)]
    return [f"┌ {run_title(run)}", *body, f"└ end of {run_title(run).split(':')[0]}"]


def _unlinked(run: Run) -> list[str]:
    why = ("it wrote the compaction summary" if run.compaction
           else "no tool call of this session started it")
    lines = run_lines(run)
    return [f"{lines[0]}  ({why}; {run.source})",
            *(line if line.startswith(_FRAME) else f"  {line}" for line in lines[1:])]


def conversation(conv: Conversation, first: int = 0, last: int = 0) -> list[str]:
    """Every message's lines, then the subagent runs no call started; ``first``/``last``
    (0: all) keep the first or the last of them, and say how many were left out."""
    items = [lines for lines in map(message_lines, conv.messages) if lines]
    items += [_unlinked(run) for run in conv.unlinked]
    total = len(items)
    if last:
        items = items[-last:]
    elif first:
        items = items[:first]
    out = [line for item in items for line in item]
    left_out = total - len(items)
    if left_out and last:
        out.insert(0, f"({left_out} earlier message(s) not shown: --tail)")
    elif left_out:
        out.append(f"({left_out} more message(s) not shown: --limit)")
    return out
