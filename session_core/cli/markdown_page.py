"""``export --format markdown``: a session to read in an editor or a Markdown viewer.

A heading per turn (a prompt or a command starts one), then what followed in order: replies,
tool calls as fenced blocks with their results, subagent runs quoted under the call that
started them. Transcript text is data, not Markdown to trust: code blocks get a fence longer
than any backtick run inside, a prompt is quoted so its own fences end with it, and ``<`` in
prose is written ``&lt;`` so that a viewer which renders HTML renders none of the transcript's.
"""

from __future__ import annotations

import re

from ..base.clock import local_time
from ..base.text import clip, short_path
from ..store.summary import SessionSummary
from ..transcript.conversation import (
    COMMAND,
    COMMAND_OUTPUT,
    META,
    PROMPT,
    REPLY,
    SUMMARY,
    THINKING,
    TOOL,
    Conversation,
    Image,
    Message,
    Run,
    ToolCall,
)
from ..transcript.extract import main_argument
from .conversation import run_title
from .readable import data_uri
from .session_facts import facts, title_of
from .tool_input import shown_input

TITLE_CHARS = 160
"""A title is a first prompt: the heading shows its beginning (the first turn has it all)."""
LONG_RESULT = 40
"""A result of more lines than this is folded into ``<details>``."""
_TICKS = re.compile(r"`+")
_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}(?=[^`]*$)|~{3,})")
"""A fence as CommonMark opens one: a backtick fence's info string holds no backtick."""
_DELIMITERS = re.compile(r"(?<!\\)((?:\\\\)*)(`+)")
r"""A backtick run that delimits code: not one a backslash escapes (``\```)."""


def _fenced(text: str, info: str = "") -> list[str]:
    longest = max((len(run) for run in _TICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{info}", *text.split("\n"), fence]


def _code_span(text: str) -> str:
    text = " ".join(text.split("\n"))  # a blank line would end the span, and the paragraph
    longest = max((len(run) for run in _TICKS.findall(text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if longest or text[:1] == " " or text[-1:] == " " else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _escape_line(line: str) -> str:
    """``<`` as ``&lt;`` outside code spans (inside them a viewer shows it as it is), and no
    image outside them (``![x](https://…)`` would make a viewer fetch it)."""
    pieces: list[tuple[str, bool]] = []  # (text, is a delimiter run)
    at = 0
    for match in _DELIMITERS.finditer(line):
        pieces.append((line[at:match.start(2)], False))
        pieces.append((match.group(2), True))
        at = match.end()
    pieces.append((line[at:], False))
    out, i = [], 0
    while i < len(pieces):
        text, delimiter = pieces[i]
        if delimiter:
            close = next((j for j in range(i + 2, len(pieces), 2) if pieces[j][0] == text),
                         None)
            if close is not None:
                out.append("".join(piece for piece, _ in pieces[i:close + 1]))
                i = close + 1
                continue
            out.append(text)
        else:
            out.append(text.replace("<", "&lt;").replace("![", "!\\["))
        i += 1
    return "".join(out)


def prose(text: str) -> list[str]:
    """Markdown the model (or the user) wrote, made safe to embed: HTML escaped outside code,
    a fence left open closed, so the rest of the page is not swallowed into it."""
    out: list[str] = []
    fence: str | None = None
    for line in text.split("\n"):
        if fence is not None:
            out.append(line)
            if line.strip().startswith(fence) and not line.strip().strip(fence[0]):
                fence = None
            continue
        opening = _FENCE_OPEN.match(line)
        if opening:
            fence = opening.group(1)
        out.append(line if opening else _escape_line(line))
    if fence is not None:
        out.append(fence)
    return out


def _quoted(lines: list[str]) -> list[str]:
    while lines and not lines[-1]:
        lines = lines[:-1]
    return [f"> {line}" if line else ">" for line in lines]


def _clock(stamp: str | None) -> str:
    return local_time(stamp)[11:] or "-"


def _images(images: list[Image]) -> list[str]:
    out = []
    for number, image in enumerate(images, 1):
        uri = data_uri(image)
        out += ["", f"![image {number}]({uri})" if uri else
                f"*(image {number}: {_escape_line(_code_span(image.media_type))} not shown)*"]
    return out


def _details(summary: str, body: list[str]) -> list[str]:
    return [f"<details><summary>{summary}</summary>", "", *body, "", "</details>"]


def _call(call: ToolCall, stamp: str | None, cwd: str | None) -> list[str]:
    said = clip(short_path(main_argument(call.input), cwd), 100, flatten=True, ellipsis=True)
    head = f"**{_escape_line(call.name)}**" + (f" {_code_span(said)}" if said else "")
    lines = [f"{head} · {_clock(stamp)}"]
    for label, text in shown_input(call):
        lines += ["", f"*{_escape_line(label)}*"] if label else [""]
        lines += _fenced(text)
    for run in call.runs:
        lines += ["", *_quoted(_run(run))]
    lines += ["", *_result(call)]
    return lines


def _result(call: ToolCall) -> list[str]:
    result = call.result
    if result is None:
        return ["*No result: the call was cut off, or was still running.*"]
    count = len(result.text.splitlines())
    label = f"Result{' ✗ error' if result.is_error else ''} · {count} line(s)"
    body = _fenced(result.text) + _images(result.images)
    if count > LONG_RESULT:
        return _details(label, body)
    return [f"*{label}*", "", *body]


def message_lines(message: Message) -> list[str]:
    kind, when = message.kind, _clock(message.timestamp)
    if kind == TOOL and message.call is not None:
        return _call(message.call, message.timestamp, message.cwd)
    if kind == PROMPT:
        return [f"**You** · {when}", "", *_quoted(prose(message.text)), *_images(message.images)]
    if kind == REPLY:
        mark = " · ✗ API error" if message.is_error else ""
        return [f"**Claude** · {when}{mark}", "", *prose(message.text)]
    if kind == THINKING:
        return [f"*Thinking* · {when}", "", *_quoted(prose(message.text or "(redacted)"))]
    if kind == COMMAND:
        return [f"**Command** {_code_span(message.text)} · {when}"]
    if kind == COMMAND_OUTPUT:
        return [f"*Command output* · {when}", "", *_fenced(message.text)]
    if kind == SUMMARY:
        return _details(f"Compaction summary · {when}", prose(message.text))
    if kind == META:
        return _details(f"Claude Code note · {when}", _fenced(message.text))
    return []


def _messages(messages: list[Message]) -> list[str]:
    out: list[str] = []
    for message in messages:
        lines = message_lines(message)
        if lines:
            out += [*lines, ""]
    return out


def _run(run: Run) -> list[str]:
    return [f"**{_escape_line(run_title(run))}**", "", *_messages(run.messages)]


def _turns(messages: list[Message]) -> list[str]:
    out: list[str] = []
    turn = 0
    for message in messages:
        if message.kind in (PROMPT, COMMAND) or not out:
            starts = message.kind in (PROMPT, COMMAND)
            turn += starts
            heading = f"Turn {turn}" if starts else "Before the first prompt"
            out += [f"## {heading} · {local_time(message.timestamp)}", ""]
        lines = message_lines(message)
        if lines:
            out += [*lines, ""]
    return out


def _unlinked(runs: list[Run]) -> list[str]:
    if not runs:
        return []
    out = ["## Subagent runs no tool call started", ""]
    for run in runs:
        why = "It wrote the compaction summary." if run.compaction else \
            "No tool call of this session names it."
        out += [f"### {_escape_line(run_title(run))}", "",
                f"*{why} File {_code_span(run.source)}.*", "", *_quoted(_messages(run.messages)),
                ""]
    return out


def markdown_page(summary: SessionSummary, conversation: Conversation, redacted: bool) -> str:
    """The whole page (``summary`` and ``conversation`` already cleaned for leaving)."""
    head = [f"# {_escape_line(clip(title_of(summary), TITLE_CHARS, ellipsis=True))}", ""]
    head += [f"- **{label}**: {_escape_line(value)}" for label, value in facts(summary)]
    head += ["", "*Secrets redacted.*" if redacted else "*Not redacted: may hold secrets.*",
             "", "---", ""]
    body = _turns(conversation.messages) + _unlinked(conversation.unlinked)
    return "\n".join(head + body).rstrip("\n") + "\n"
