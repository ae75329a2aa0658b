"""``session-core search QUERY``: ranked hits grouped by session, each with a snippet of the
matched text, redacted.

The words are in a contentless FTS5 index (the text is not stored twice), so a snippet is made
from the record itself, read back from the archive for the few hits shown. A query is taken as a
user types it: ``fetch_user``, ``v2.1.38``, ``src/app.py``, ``Foo::bar`` and ``error-code`` are
each searched as the phrase of their words; quoted phrases, ``prefix*`` and ``AND``/``OR``/
``NOT`` keep FTS5's meaning.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..base.clock import minute_text
from ..base.errors import ExitCode, NotFoundError, UsageError
from ..base.text import clip
from ..handoff.redact import redact
from ..store import entries, files, sessions
from ..store.archive import Archive
from ..store.frames import read_lines
from ..transcript.extract import extract
from ..transcript.records import RecordError, parse_record

OPERATORS = frozenset({"AND", "OR", "NOT", "NEAR", "(", ")"})
SNIPPET_CHARS = 220


def fts_query(text: str) -> str:
    """The user's query in FTS5 syntax: a bare word with characters the tokenizer splits on
    (``-``, ``.``, ``/``, ``:``...) becomes a quoted phrase, so it means what was typed instead
    of an FTS5 syntax error or a column filter."""
    out: list[str] = []
    at = 0
    while at < len(text):
        ch = text[at]
        if ch.isspace():
            at += 1
            continue
        if ch == '"':
            close = text.find('"', at + 1)
            close = len(text) if close < 0 else close
            out.append('"' + text[at + 1:close].replace('"', "") + '"')
            at = close + 1
            continue
        if ch in "()":
            out.append(ch)
            at += 1
            continue
        end = at
        while end < len(text) and not text[end].isspace() and text[end] not in '()"':
            end += 1
        out.append(_word(text[at:end]))
        at = end
    return " ".join(out)


def _word(word: str) -> str:
    if word in OPERATORS:
        return word
    prefix = word.endswith("*") and len(word) > 1
    core = word[:-1] if prefix else word
    if core.replace("_", "").isalnum():
        return word
    return '"' + core.replace('"', "") + '"' + ("*" if prefix else "")


def _terms(query: str) -> list[str]:
    """The query's words, lower-cased, for finding them in a hit's text."""
    words = []
    for token in query.replace('"', " ").replace("(", " ").replace(")", " ").split():
        if token not in OPERATORS:
            words.append(token.rstrip("*").lower())
    return [w for w in words if w]


def snippet(text: str, terms: list[str], limit: int = SNIPPET_CHARS) -> tuple[str, list[str]]:
    """A window of ``text`` around the first matched term, and the terms it holds."""
    flat = " ".join(text.split())
    lowered = flat.lower()
    found = sorted((lowered.find(t), t) for t in terms if lowered.find(t) >= 0)
    if not found:
        return clip(flat, limit, ellipsis=True), []
    first = found[0][0]
    start = max(0, first - limit // 3)
    if start:
        space = flat.find(" ", start)
        start = space + 1 if 0 <= space < first else start
    window = flat[start:start + limit]
    shown = [t for _, t in found if t in window.lower()]
    return ("…" if start else "") + clip(window, limit, ellipsis=True), shown


def _mark(text: str, terms: list[str], tty: bool) -> str:
    """The matched words in bold on a terminal, in «» elsewhere."""
    if not terms:
        return text
    lowered, out, at = text.lower(), [], 0
    while True:
        hits = [(lowered.find(t, at), t) for t in terms if lowered.find(t, at) >= 0]
        if not hits:
            break
        pos, term = min(hits)
        out.append(text[at:pos])
        word = text[pos:pos + len(term)]
        out.append(f"\x1b[1m{word}\x1b[0m" if tty else f"«{word}»")
        at = pos + len(term)
    out.append(text[at:])
    return "".join(out)


def _hit_text(archive: Archive, hit: entries.Hit) -> tuple[str, str | None]:
    """The hit's text as indexed (the record read back from its frames) and its uuid."""
    record = files.by_id(archive.db.conn, hit.file_id)
    if record is None:
        return "", None
    line = b"\n".join(read_lines(archive.db.conn, record, hit.offset, hit.offset + hit.length))
    try:
        parsed = parse_record(line)
    except RecordError:
        return "", None
    info = extract(parsed, 1_000_000)
    return (info.text if info else ""), parsed.uuid


def _filters(archive: Archive, args: argparse.Namespace) -> entries.Filters:
    session_id = None
    if args.session:
        row = sessions.resolve(archive.db.conn, args.session)
        session_id = row.session_id
    if args.role and args.role not in ("user", "assistant", "system"):
        raise UsageError(f"--role {args.role!r} is not a role", "use user, assistant or system")
    return entries.Filters(session_id, args.role, args.tool, utc_day(args.since, "since"),
                           utc_day(args.until, "until"), args.branch)


def utc_day(text: str | None, name: str) -> str | None:
    """A date or a time as stored times compare (``2026-11-23`` or ``2026-11-23T08:49``)."""
    if text is None:
        return None
    if len(text) < 10 or text[4] != "-" or text[7] != "-" or not text[:4].isdigit():
        raise UsageError(f"--{name} {text!r} is not a date", "write it as 2026-11-23 or"
                         " 2026-11-23T08:49")
    return text


def results(archive: Archive, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Hits grouped by session, the session of the best hit first."""
    query = fts_query(args.query)
    if not query.strip():
        raise UsageError("the query is empty", "search for a word, a phrase in quotes, a path")
    hits = entries.search(archive.db.conn, query, args.limit, _filters(archive, args))
    terms = _terms(args.query)
    groups: dict[str, dict[str, Any]] = {}
    for hit in hits:
        group = groups.get(hit.session)
        if group is None:
            row = sessions.resolve(archive.db.conn, hit.session)
            group = groups[hit.session] = {
                "session_id": hit.session, "title": redact(row.title or ""),
                "last_active": row.last_ts, "branch": row.git_branch, "hits": []}
        text, uuid = _hit_text(archive, hit)
        shown, matched = snippet(redact(text), terms)
        group["hits"].append({
            "session_id": hit.session, "uuid": uuid, "timestamp": hit.ts, "role": hit.role,
            "kind": hit.kind, "tool": hit.tools, "snippet": shown, "matched": matched,
            "score": round(-hit.score, 3)})
    return list(groups.values())


def render(groups: list[dict[str, Any]], tty: bool) -> str:
    out = []
    for group in groups:
        count = len(group["hits"])
        branch = f", {group['branch']}" if group["branch"] else ""
        out.append(f"{group['session_id']}  {clip(group['title'], 70, ellipsis=True)}")
        out.append(f"  {minute_text(group['last_active'])}{branch},"
                   f" {count} hit{'s' if count != 1 else ''}")
        for hit in group["hits"]:
            what = hit["role"] + ("/" + hit["tool"] if hit["tool"] else f"/{hit['kind']}")
            stamp = (hit["timestamp"] or "")[:19].replace("T", " ")
            out.append(f"  {stamp}  {what}")
            out.append(f"    {_mark(hit['snippet'], hit['matched'], tty)}")
        out.append("")
    return "\n".join(out).rstrip()


def cmd_search(archive: Archive, args: argparse.Namespace) -> int:
    groups = results(archive, args)
    if args.json:
        print(json.dumps([hit for group in groups for hit in group["hits"]], indent=2,
                         ensure_ascii=False))
        return ExitCode.OK
    if not groups:
        raise NotFoundError(f"nothing in the archive matches {args.query!r}",
                            "try fewer words, a prefix (retr*), or drop a filter")
    print(render(groups, sys.stdout.isatty()))
    return ExitCode.OK
