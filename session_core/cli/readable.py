"""A session's conversation read from the archive and made fit to leave it: every text redacted
(unless the user asks for the raw words), terminal escapes and control characters taken out of
what a terminal or a page shows, thinking left out unless asked for.

One walk over the whole model, before any renderer sees it: a renderer cannot forget to
redact a field, and a secret is redacted whole, before any cut could leave half of it
unrecognisable. ``export --format jsonl`` alone gives the bytes as they are (``cli.export``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..base.sqlite_driver import sqlite3
from ..handoff.redact import redact
from ..store import files, frames, sessions
from ..transcript.conversation import (
    THINKING,
    Conversation,
    Image,
    Message,
    Run,
    read_conversation,
)
from ..transcript.outcomes import strip_ansi

_KEPT_CONTROLS = frozenset("\n\t")


def read_session(conn: sqlite3.Connection, ref: str) -> Conversation:
    """The session's conversation with its subagents' runs, as archived (nothing cleaned)."""
    session = sessions.resolve(conn, ref)
    found = files.of_session(conn, session.session_id)
    main = files.main_file(found, session.uuid)
    chosen: dict[str, files.FileRecord] = {}
    for record in found:  # several copies of one subagent file: the longest one
        if record.kind != "subagent":
            continue
        name = record.rel_path.rsplit("/", 1)[-1]
        best = chosen.get(name)
        if best is None or (record.size, record.file_id) > (best.size, best.file_id):
            chosen[name] = record
    subagents = [(record.rel_path, frames.read_lines(conn, record))
                 for _, record in sorted(chosen.items())]
    return read_conversation(frames.read_lines(conn, main), subagents)


def printable(text: str) -> str:
    """Without terminal escapes and control characters: transcript text may carry colour
    codes (or worse, sequences a terminal obeys), and a page cannot show them either."""
    text = strip_ansi(text)
    if text.isprintable():
        return text
    return "".join(c for c in text if c in _KEPT_CONTROLS or not _is_control(c))


def _is_control(char: str) -> bool:
    code = ord(char)
    return code < 0x20 or 0x7F <= code < 0xA0


def prepare(conversation: Conversation, *, redacting: bool = True, thinking: bool = False,
            for_display: bool = True) -> Conversation:
    """``conversation`` cleaned in place for leaving the archive (see the module's doc).
    ``for_display`` also takes escapes out (a JSON export keeps the characters: JSON
    escapes them)."""
    def clean(text: str) -> str:
        # colour codes out first: one inside a secret (grep --color) would hide it from
        # redaction, and stripping it afterwards would join the secret again
        text = strip_ansi(text)
        text = redact(text) if redacting else text
        return printable(text) if for_display else text

    conversation.messages = _prepared(conversation.messages, clean, redacting, thinking)
    for run in conversation.unlinked:
        _run(run, clean, redacting, thinking)
    return conversation


def _prepared(messages: list[Message], clean: Callable[[str], str], redacting: bool,
              thinking: bool) -> list[Message]:
    kept = [m for m in messages if thinking or m.kind != THINKING]
    for message in kept:
        message.text = clean(message.text)
        message.model = clean(message.model) if message.model else message.model
        message.cwd = clean(message.cwd) if message.cwd else message.cwd
        _images(message.images, clean)
        call = message.call
        if call is None:
            continue
        call.name = clean(call.name)
        call.input = _input(call.input, clean, redacting)
        if call.result is not None:
            call.result.text = clean(call.result.text)
            _images(call.result.images, clean)
        for run in call.runs:
            _run(run, clean, redacting, thinking)
    return kept


def _images(images: list[Image], clean: Callable[[str], str]) -> None:
    for image in images:  # the type is a tool's word (an MCP result's mimeType)
        image.media_type = clean(image.media_type)


def _run(run: Run, clean: Callable[[str], str], redacting: bool, thinking: bool) -> None:
    run.source = "/".join(map(clean, run.source.split("/")))  # the whole path would look random
    run.agent_id = clean(run.agent_id) if run.agent_id else run.agent_id
    run.messages = _prepared(run.messages, clean, redacting, thinking)


def _input(value: Any, clean: Callable[[str], str], redacting: bool) -> Any:
    """A tool's input with every string cleaned; a value under a telling key (``password``,
    ``api_key``) is redacted as the assignment ``key=value`` would be, since the value alone
    may look like any word."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, list):
        return [_input(item, clean, redacting) for item in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = clean(str(key))
        if isinstance(item, str) and redacting:
            out[name] = clean(_value_of_assignment(name, item))
        else:
            out[name] = _input(item, clean, redacting)
    return out


def _value_of_assignment(key: str, value: str) -> str:
    said = redact(f"{key}={value}")
    return said[len(key) + 1:] if said.startswith(f"{key}=") else value


_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
_BASE64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")


def data_uri(image: Image) -> str | None:
    """The image as a ``data:`` URI a page can show, or None when its type is not a plain
    picture (an SVG could carry script) or its data is not base64 (it could break out of the
    attribute it is put in)."""
    data = "".join(image.data.split())
    if image.media_type not in _IMAGE_TYPES or not data or not _BASE64.issuperset(data):
        return None
    return f"data:{image.media_type};base64,{data}"
