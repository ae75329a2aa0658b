"""``export --format markdown|html|json``: a session read from the archive, cleaned for leaving
it (``cli.readable``), rendered, and written where asked. ``jsonl`` is not here: it is the
transcript's own bytes (``cli.export``)."""

from __future__ import annotations

import sys

from ..base.errors import UsageError
from ..base.fs import AtomicFile
from ..base.sqlite_driver import sqlite3
from ..handoff.redact import redact
from ..store.summary import SessionSummary, session_summary
from ..transcript.outcomes import strip_ansi
from .export import check_output_target
from .html_page import html_page
from .json_document import json_document
from .markdown_page import markdown_page
from .readable import prepare, printable, read_session

READABLE = ("markdown", "html", "json")


def clean_summary(summary: SessionSummary, redacting: bool, for_display: bool) -> SessionSummary:
    """The summary's texts as the conversation's are: a title is a first prompt, it may hold
    a pasted key."""
    def clean(text: str | None) -> str | None:
        if text is None:
            return None
        text = strip_ansi(text)  # first: a colour code inside a secret hides it from redact
        text = redact(text) if redacting else text
        return printable(text) if for_display else text

    summary.title, summary.cwd = clean(summary.title), clean(summary.cwd)
    summary.git_branch = clean(summary.git_branch)
    return summary


def render_export(conn: sqlite3.Connection, summary: SessionSummary, fmt: str, *,
                  redacting: bool, thinking: bool, index_href: str | None = None) -> str:
    """The session as a ``fmt`` document."""
    display = fmt != "json"
    read = prepare(read_session(conn, summary.uuid), redacting=redacting, thinking=thinking,
                   for_display=display)
    summary = clean_summary(summary, redacting, display)
    if fmt == "markdown":
        return markdown_page(summary, read, redacting)
    if fmt == "html":
        return html_page(summary, read, redacting, index_href)
    if fmt == "json":
        return json_document(summary, read, redacting, thinking)
    raise UsageError(f"unknown export format {fmt!r}", f"use one of {', '.join(READABLE)}")


def export_readable(conn: sqlite3.Connection, ref: str, fmt: str, output: str | None, *,
                    redacting: bool, thinking: bool) -> None:
    """Render the whole document first, then write it: to ``output`` atomically (a failed
    export never leaves half a file), else to stdout."""
    text = render_export(conn, session_summary(conn, ref), fmt, redacting=redacting,
                         thinking=thinking)
    data = text.encode("utf-8")
    if output:
        check_output_target(output)
        with AtomicFile(output) as out:
            out.write(data)
        return
    if sys.stdout is None:  # started with stdout closed: nowhere to write
        raise UsageError("standard output is closed", "name a file with -o FILE")
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
