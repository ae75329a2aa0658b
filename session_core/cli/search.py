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

from ..base.clock import local_time, minute_text
from ..base.errors import DamagedError, ExitCode, NotFoundError, UsageError
from ..base.text import clip
from ..handoff.redact import redact
from ..store import entries, files, sessions
from ..store.archive import Archive
from ..store.frames import LastFrame, read_lines
from ..transcript.extract import extract
from ..transcript.index import entry_key
from ..transcript.records import RecordError, parse_record

OPERATORS = frozenset({"AND", "OR", "NOT", "NEAR", "(", ")"})
SNIPPET_CHARS = 220


def fts_query(text: str) -> str:
    """The user's query in FTS5 syntax: a bare word with characters the tokenizer splits on
    (``-``, ``.``, ``/``, ``:``, parentheses inside it...) becomes a quoted phrase, so it means
    what was typed instead of an FTS5 syntax error or a column filter; two operands side by
    side are joined by an explicit ``AND`` (FTS5 refuses the implicit one beside a group).
    A query using ``NEAR(`` is taken as FTS5 syntax, unchanged."""
    if "NEAR(" in text:
        return text
    tokens: list[str] = []
    bare = "".join(part for n, part in enumerate(text.split('"')) if n % 2 == 0)
    grouping = bare.count("(") == bare.count(")") > 0  # balanced: parentheses group
    at = 0
    while at < len(text):
        ch = text[at]
        if ch.isspace():
            at += 1
        elif ch == '"':
            close = text.find('"', at + 1)
            close = len(text) if close < 0 else close
            phrase = '"' + text[at + 1:close].replace('"', "") + '"'
            at = close + 1
            if at < len(text) and text[at] == "*":
                phrase += "*"
                at += 1
            if any(ch.isalnum() for ch in phrase):
                tokens.append(phrase)
        else:
            end = at
            while end < len(text) and not text[end].isspace() and text[end] != '"':
                end += 1
            for part in _groups(text[at:end]) if grouping else [text[at:end]]:
                word = _word(part)
                if word:
                    tokens.append(word)
            at = end
    out: list[str] = []
    for token in tokens:
        if out and _operand_end(out[-1]) and _operand_start(token):
            out.append("AND")
        out.append(token)
    return " ".join(out)


def _groups(word: str) -> list[str]:
    """``(retry`` as ``(`` and ``retry``; ``fetch_user()`` stays one word (code, not a group)."""
    lead = len(word) - len(word.lstrip("("))
    trail = len(word) - len(word.rstrip(")"))
    core = word[lead:len(word) - trail]
    if not core or "(" in core or ")" in core:
        return [word]
    return ["("] * lead + [core] + [")"] * trail


def _operand_end(token: str) -> bool:
    return token not in OPERATORS or token == ")"


def _operand_start(token: str) -> bool:
    return token not in OPERATORS or token == "("


def _word(word: str) -> str:
    if word in OPERATORS:
        return word
    prefix = word.endswith("*") and len(word) > 1
    core = word[:-1] if prefix else word
    if core.replace("_", "").isalnum():
        return word
    phrase = core.replace('"', "")
    if not any(ch.isalnum() for ch in phrase):
        return ""  # punctuation alone: no word to look for
    return '"' + phrase + '"' + ("*" if prefix else "")


def _terms(query: str) -> list[str]:
    """The query's words, lower-cased, for finding them in a hit's text."""
    words = []
    for token in query.replace('"', " ").replace("(", " ").replace(")", " ").split():
        if token not in OPERATORS and token.rstrip("*"):
            words.append(token.lower())
    return words


def find_word(lowered: str, term: str, start: int = 0) -> int:
    """Where ``term`` (``retr*``: a prefix) occurs in ``lowered`` as FTS5 matches it: a whole
    word, not inside another (``log`` is not in ``logger``); -1 if nowhere."""
    prefix = term.endswith("*")
    word = term.rstrip("*")
    at = lowered.find(word, start)
    while at >= 0:
        end = at + len(word)
        if (at == 0 or not lowered[at - 1].isalnum()) and (
                prefix or end == len(lowered) or not lowered[end].isalnum()):
            return at
        at = lowered.find(word, at + 1)
    return -1


_CONTROL = {code: " " for code in (*range(0, 32), 127, *range(128, 160))}
"""Terminal control characters out of a snippet: a tool's output may hold escape sequences."""
_REDACT_MARGIN = 400
"""Redaction runs on the window and this much around it: a secret cut by the window's edge
is still seen whole."""


def snippet(text: str, terms: list[str], limit: int = SNIPPET_CHARS) -> tuple[str, list[str]]:
    """A window of ``text`` around the first matched term (redacted), and the terms it holds.

    The window is cut from ``text`` flattened (control characters and runs of whitespace as one
    space), but only a stretch around the first match is flattened and redacted, not the whole
    record (megabytes, for some): the snippet is the same as of the whole text flattened."""
    # A term with a control character is in no flattened text; one holding a space (not a
    # query's word) may match across what flattening joins: that one is found the slow way.
    terms = [t for t in terms if not any(ord(ch) in _CONTROL for ch in t)]
    if any(ch.isspace() for t in terms for ch in t):
        text = _flatten(text)
    lowered = text.lower()
    if len(lowered) != len(text):  # a letter whose lower case is longer: positions would drift
        terms = []
    places = [(find_word(lowered, t), t) for t in terms]
    found = sorted((at, t) for at, t in places if at >= 0)
    flat, first = _around(text, found[0][0] if found else 0, [t for _, t in found], limit)
    start = max(0, first - limit // 3)
    if start:
        space = flat.find(" ", start)
        start = space + 1 if 0 <= space < first else start
    around = redact(flat[max(0, start - _REDACT_MARGIN):start + limit + _REDACT_MARGIN])
    offset = start - max(0, start - _REDACT_MARGIN)
    window = around[offset:]
    cut = len(window) > limit or start + limit < len(flat)
    shown = clip(window, limit - 1 if cut else limit, ellipsis=True)
    if cut and not shown.endswith("…"):
        shown += "…"
    lowered_shown = shown.lower()
    return ("…" if start else "") + shown, [t for _, t in found
                                            if find_word(lowered_shown, t) >= 0]


def _flatten(text: str) -> str:
    return " ".join(text.translate(_CONTROL).split())


def _around(text: str, at: int, terms: list[str], limit: int) -> tuple[str, int]:
    """A stretch of ``text`` holding ``at`` (the first match, in ``text``; 0 if none),
    flattened, and where the first match is in it: enough before it for the window's lead and
    the redaction's margin, enough after for the window and the margin, unless the stretch
    reaches the text's start or end. It starts after a space or a newline and ends before one,
    so its words are the text's own, whole: the same characters as the flattened whole has
    there, and the same matches (``terms``: those found in the whole)."""
    before = limit // 3 + _REDACT_MARGIN + 1
    after = limit + _REDACT_MARGIN + 1
    back, ahead = 2 * before, 2 * after + max(map(len, terms), default=0)
    while True:
        start = 0
        if at > back:
            start = max(text.rfind(" ", 0, at - back), text.rfind("\n", 0, at - back)) + 1
        end = len(text)
        if at + ahead < len(text):
            ends = [i for i in (text.find(" ", at + ahead), text.find("\n", at + ahead)) if i >= 0]
            end = min(ends, default=len(text))
        flat = _flatten(text[start:end])
        lowered = flat.lower()
        places = [place for place in (find_word(lowered, t) for t in terms) if place >= 0]
        first = min(places, default=0)
        short_before = start > 0 and first < before
        short_after = end < len(text) and len(flat) - first < after
        if not short_before and not short_after:
            return flat, first
        back, ahead = back * (4 if short_before else 1), ahead * (4 if short_after else 1)


def _mark(text: str, terms: list[str], tty: bool) -> str:
    """The matched words in bold on a terminal, in «» elsewhere."""
    lowered = text.lower()
    if not terms or len(lowered) != len(text):
        return text
    out, at = [], 0
    while True:
        hits = [(find_word(lowered, t, at), t) for t in terms]
        hits = [(pos, t) for pos, t in hits if pos >= 0]
        if not hits:
            break
        pos, term = min(hits)
        end = pos + len(term.rstrip("*"))
        if term.endswith("*"):  # a prefix marks the whole word it starts
            while end < len(text) and text[end].isalnum():
                end += 1
        out.append(text[at:pos])
        out.append(f"\x1b[1m{text[pos:end]}\x1b[0m" if tty else f"«{text[pos:end]}»")
        at = end
    out.append(text[at:])
    return "".join(out)


def _hit_text(archive: Archive, hit: entries.Hit,
              last: LastFrame | None = None) -> tuple[str, str | None]:
    """The hit's text as indexed (the record read back from the frames of its generation, its
    tool text cut where the index cut it) and its uuid; a hit whose bytes cannot be read (a
    damaged frame: ``verify`` says which) is shown without a snippet. ``last``: the frame the
    previous hit's read decompressed (:class:`~session_core.store.frames.LastFrame`)."""
    record = files.by_id(archive.db.conn, hit.file_id)
    if record is None:
        return "", None
    record.generation = hit.generation  # a rewritten file's older entries live in older frames
    try:
        # Without each frame's content hash (hashing a 4 MiB frame per hit was most of a
        # search): zstd's checksum holds, and the record must be the entry that was found.
        line = b"\n".join(read_lines(archive.db.conn, record, hit.offset,
                                     hit.offset + hit.length, content_hashes=False,
                                     last=last))
        parsed = parse_record(line)
    except (RecordError, DamagedError):
        return "", None
    if entry_key(parsed, line) != hit.key:  # a frame in the wrong place: say nothing of it
        return "", None
    info = extract(parsed, archive.settings.tool_text_chars)
    return (info.text if info else ""), parsed.uuid


def _filters(archive: Archive, args: argparse.Namespace) -> entries.Filters:
    for name in ("session", "role", "tool", "branch", "since", "until"):
        if getattr(args, name) == "":
            raise UsageError(f"--{name} is empty", f"give --{name} a value, or leave it out")
    session_id = None
    if args.session:
        row = sessions.resolve(archive.db.conn, args.session)
        session_id = row.session_id
    if args.role and args.role not in ("user", "assistant", "system"):
        raise UsageError(f"--role {args.role!r} is not a role", "use user, assistant or system")
    return entries.Filters(session_id, args.role, args.tool, utc_day(args.since, "since"),
                           utc_day(args.until, "until"), args.branch)


def utc_day(text: str | None, name: str) -> str | None:
    """A date or a time (ISO 8601; a zone converted to UTC, none taken as UTC) in the format
    stored times compare in, so ``--since 2026-11-23 08:49`` means that minute on."""
    if text is None:
        return None
    from datetime import datetime, timezone

    try:
        when = datetime.fromisoformat(text.strip().replace(" ", "T", 1).replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--{name} {text!r} is not a date or a time",
                         "write it as 2026-11-23, 2026-11-23T08:49 or 2026-11-23T08:49+02:00"
                         ) from None
    if when.tzinfo is not None:
        when = when.astimezone(timezone.utc).replace(tzinfo=None)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def results(archive: Archive, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Hits grouped by session, the session of the best hit first."""
    try:
        args.query.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError("the query is not valid text (a byte that is not UTF-8)",
                         "type the words again, or quote them") from None
    query = fts_query(args.query)
    if not query.strip():
        raise UsageError("the query is empty", "search for a word, a phrase in quotes, a path")
    with archive.db.read():  # one snapshot: a hook's save may change frames meanwhile
        found = _results(archive, args, query)
        looser = any_word_query(args.query)
        if not found and looser is not None:
            found = _results(archive, args, looser)
            for group in found:
                group["some_words"] = True
        return found


def any_word_query(text: str) -> str | None:
    """The query as any of its words, for a question typed in plain words ("where did we fix
    the flaky test") that no single message holds whole: BM25 then puts the messages with the
    most and the rarest of the words first. None for a query with operators, quotes or one
    word: it meant exactly what it said."""
    words = text.split()
    if len(words) < 2 or '"' in text or "NEAR(" in text or any(w in OPERATORS for w in words):
        return None
    terms = [term for term in map(_word, words) if term and term not in OPERATORS]
    return " OR ".join(terms) if len(terms) > 1 else None


def _results(archive: Archive, args: argparse.Namespace, query: str) -> list[dict[str, Any]]:
    hits = entries.search(archive.db.conn, query, args.limit, _filters(archive, args))
    terms = _terms(args.query)
    # Read in file and byte order, so the hits one frame holds (a session's) decompress it once.
    last = LastFrame()
    texts = {n: _hit_text(archive, hits[n], last) for n in sorted(
        range(len(hits)), key=lambda n: (hits[n].file_id, hits[n].generation, hits[n].offset))}
    groups: dict[str, dict[str, Any]] = {}
    for n, hit in enumerate(hits):
        group = groups.get(hit.session)
        if group is None:
            row = sessions.row_of(archive.db.conn, hit.session)  # the hit's own: no prefix
            group = groups[hit.session] = {
                "session_id": hit.session, "title": redact(row.title or "") if row else "",
                "last_active": row.last_ts if row else None,
                "branch": row.git_branch if row else None, "hits": []}
        text, uuid = texts[n]
        shown, matched = snippet(text, terms)
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
            stamp = local_time(hit["timestamp"])
            out.append(f"  {stamp}  {what}")
            out.append(f"    {_mark(hit['snippet'], hit['matched'], tty)}")
        out.append("")
    return "\n".join(out).rstrip()


FILTERS = ("session", "role", "tool", "since", "until", "branch")


def no_hit_hint(args: argparse.Namespace) -> str:
    """What to try when nothing matched, from the query itself: fewer words, a prefix of its
    longest word, and without the filters given."""
    terms = _terms(args.query)
    pieces = ["".join(ch if ch.isalnum() or ch == "_" else " " for ch in term).split()
              for term in terms]
    longest = max((p for piece in pieces for p in piece), key=len, default="")
    ways = ["fewer words"] if len(terms) > 1 else []
    if len(longest) > 4:
        ways.append(f"a prefix ({longest[:4]}*)")
    given = [f"--{name}" for name in FILTERS if getattr(args, name, None)]
    if given:
        ways.append(f"without {', '.join(given)}")
    if not ways:
        return "other words: no archived message holds this one"
    return ways[0] if len(ways) == 1 else f"{', '.join(ways[:-1])} or {ways[-1]}"


def cmd_search(archive: Archive, args: argparse.Namespace) -> int:
    groups = results(archive, args)
    if args.json:
        if groups and groups[0].get("some_words"):
            print("note: no message holds every word; these hits hold some of them",
                  file=sys.stderr)
        print(json.dumps([hit for group in groups for hit in group["hits"]], indent=2,
                         ensure_ascii=False))
        return ExitCode.OK
    if not groups:
        raise NotFoundError(f"nothing in the archive matches {args.query!r}",
                            no_hit_hint(args))
    if groups[0].get("some_words"):
        print("(no message holds every word; these hold some of them, best first)")
    print(render(groups, sys.stdout.isatty()))
    return ExitCode.OK
