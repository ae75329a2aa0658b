"""A tool call's input as a reader wants it, for the markdown and HTML exports: short values on
``key: value`` lines, each long text (a file written, an edit's old and new strings, a
subagent's prompt) as a block of its own with its real line breaks, not as one JSON string
full of ``\\n``. Tool-agnostic: new tools and fields read the same way."""

from __future__ import annotations

import json
from typing import Any

from ..transcript.conversation import PROMPT, ToolCall

SHORT_VALUE = 120
"""A string longer than this, or with a line break, is a block of its own."""


def _is_short(value: Any) -> bool:
    if isinstance(value, str):
        return "\n" not in value and len(value) <= SHORT_VALUE
    return value is None or isinstance(value, (bool, int, float))


def _scalar(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def input_sections(tool_input: Any) -> list[tuple[str, str]]:
    """``(label, text)`` pairs: first the short fields together (label ``""``), then one per
    long field (its key as the label)."""
    if tool_input is None or tool_input == {}:
        return []
    if not isinstance(tool_input, dict):
        text = tool_input if isinstance(tool_input, str) else json.dumps(
            tool_input, indent=2, ensure_ascii=False)
        return [("", text)]
    short = [f"{key}: {_scalar(value)}" for key, value in tool_input.items()
             if _is_short(value)]
    sections = [("", "\n".join(short))] if short else []
    for key, value in tool_input.items():
        if _is_short(value):
            continue
        text = value if isinstance(value, str) else json.dumps(value, indent=2,
                                                                ensure_ascii=False)
        sections.append((str(key), text))
    return sections


def shown_input(call: ToolCall) -> list[tuple[str, str]]:
    """The call's input sections, less a subagent's prompt that its run, shown right below,
    opens with anyway."""
    sections = input_sections(call.input)
    firsts = {run.messages[0].text.strip() for run in call.runs
              if run.messages and run.messages[0].kind == PROMPT}
    return [(label, text) for label, text in sections
            if not (label == "prompt" and text.strip() in firsts)]
