"""Parsers never fail on what Claude Code might write; counts match an independent reading."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from session_core.base.jsonlite import dumps, loads
from session_core.cli.backfill import ingest_paths
from session_core.store.archive import Archive
from session_core.store.summary import session_summary
from session_core.transcript.extract import extract
from session_core.transcript.lines import (
    is_plain_progress,
    progress_timestamp,
)
from session_core.transcript.lines import names_an_indexed_type as find_indexed_type
from session_core.transcript.lines import pieces as _pieces
from session_core.transcript.records import RecordError, parse_record

from .conftest import REPO, SHARED

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=8,
)
record_like = st.fixed_dictionaries(
    {"type": st.sampled_from(["user", "assistant", "system", "progress", "new-kind"])},
    optional={"uuid": json_values, "sessionId": json_values, "message": json_values,
              "timestamp": json_values, "isMeta": json_values, "content": json_values,
              "isSidechain": json_values, "totalCostUSD": json_values},
)


@given(st.binary(max_size=200))
def test_arbitrary_bytes_parse_or_raise_validation_error(line: bytes) -> None:
    try:
        record = parse_record(line)
    except RecordError:
        return
    extract(record, 100)


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(record_like)
def test_any_record_shape_is_indexed_or_refused_never_crashes(data: dict[str, object]) -> None:
    try:
        record = parse_record(json.dumps(data).encode())
    except RecordError:
        # Only a wrongly typed identity may make a record unindexable.
        assert not isinstance(data.get("uuid"), (str, type(None))) or not isinstance(
            data.get("sessionId"), (str, type(None)))
        return
    result = extract(record, 100)
    if data["type"] in ("user", "assistant", "system"):
        assert result is not None and result.role == data["type"]
    else:
        assert result is None


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")), max_size=30),
       st.booleans(), st.integers(min_value=8, max_value=64))
def test_frames_cover_the_bytes_and_never_straddle_the_last_newline(
        tmp_path_factory: object, lines: list[bytes], partial: bool, frame: int) -> None:
    data = b"\n".join(lines) + (b"" if partial else b"\n")
    path = tmp_path_factory.mktemp("frames") / "f"  # type: ignore[attr-defined]
    path.write_bytes(data)
    fd = os.open(path, os.O_RDONLY)
    try:
        pieces = list(_pieces(fd, 0, len(data), frame, True))
    finally:
        os.close(fd)
    assert b"".join(p for _, p in pieces) == data
    assert all(len(p) <= frame for _, p in pieces)
    committed = data.rfind(b"\n") + 1
    offsets = [o for o, _ in pieces]
    assert all(o + len(p) <= committed or o >= committed for o, p in pieces)
    assert offsets == sorted(offsets)


def _independent_usage(files: list[Path]) -> tuple[int, int, int]:
    """Tokens counted once per message.id, from the last line of each (json module only)."""
    last: dict[str, dict[str, int]] = {}
    for path in files:
        for line in path.read_bytes().splitlines():
            record = json.loads(line)
            message = record.get("message") if record.get("type") == "assistant" else None
            if isinstance(message, dict) and message.get("model") != "<synthetic>":
                last[message["id"]] = message.get("usage") or {}
    return (len(last), sum(u.get("input_tokens", 0) for u in last.values()),
            sum(u.get("output_tokens", 0) for u in last.values()))


def test_tokens_are_counted_once_per_message_id(archive: Archive) -> None:
    main = SHARED / "marot-spotter" / "8463c716-a2ea-4c14-9efa-87158ebd9f20.jsonl"
    files = [main, *sorted((main.parent / main.stem / "subagents").glob("*.jsonl"))]
    ingest_paths(archive, files)
    summary = session_summary(archive.db.conn, main.stem)
    lines = sum(1 for f in files for line in f.read_bytes().splitlines()
                if json.loads(line).get("type") == "assistant")
    messages, tokens_in, tokens_out = _independent_usage(files)
    assert lines > messages  # several lines per message: double counting would show
    assert summary.assistant_messages == messages
    assert (summary.input_tokens, summary.output_tokens) == (tokens_in, tokens_out)
    assert summary.subagent_files == 2
    assert summary.title and summary.title.startswith("Work on bead spotter-fum")
    assert summary.models and summary.cc_version and summary.git_branch


nested = st.recursive(
    st.none() | st.integers() | st.text(max_size=10) | st.sampled_from(
        ["progress", "user", "assistant", "system", "cost-state", "type"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["type", "data", "message", "content", "x"]), inner, max_size=3),
    max_leaves=10,
)


@given(st.sampled_from(["progress", "user", "assistant", "system", "cost-state", "other"]),
       st.dictionaries(st.sampled_from(["data", "message", "uuid", "timestamp"]), nested,
                       max_size=3), st.booleans())
def test_progress_fast_path_never_skips_a_record_we_index(kind: str, fields: dict[str, object],
                                                          type_first: bool) -> None:
    record = {"type": kind, **fields} if type_first else {**fields, "type": kind}
    line = json.dumps(record, separators=(",", ":")).encode()
    indexed = kind in ("user", "assistant", "system", "cost-state")
    if indexed:
        assert not is_plain_progress(line)
        assert not is_plain_progress(json.dumps(record).encode())  # spaced: never skipped


INDEXED_TYPE = re.compile(rb'"type":(?:"(?:user|assistant|system|cost-state)"| )')


@given(st.lists(st.sampled_from([b'"type":', b'"user"', b'"assistant"', b'"system"',
                                 b'"cost-state"', b'"progress"', b" ", b"x", b'"', b":"]),
                max_size=12).map(b"".join))
def test_hooks_find_indexed_types_as_the_regex_does(line: bytes) -> None:
    """The progress check is a ``find`` loop (no ``re`` on the hook path): the regex's answers."""
    assert find_indexed_type(line) == (INDEXED_TYPE.search(line) is not None)


def test_progress_fast_path_takes_most_progress_lines_of_real_transcripts() -> None:
    skipped = total = 0
    for path in (SHARED / "marot-spotter").glob("*.jsonl"):
        for line in path.read_bytes().splitlines():
            if json.loads(line).get("type") == "progress":
                total += 1
                skipped += is_plain_progress(line)
                if is_plain_progress(line):
                    assert progress_timestamp(line) == json.loads(line)["timestamp"]
    assert skipped > 0.9 * total


def test_titles_come_from_what_the_user_typed(archive: Archive) -> None:
    """A slash command with arguments is a prompt; a bare one (/compact) is not a title."""
    spotter = SHARED / "marot-spotter"
    ingest_paths(archive, [spotter / "subagent.jsonl", SHARED / "claude-code-2.1.328" /
                           "projects" / "-home-dev-projects-demo-app" /
                           "3bc69d40-47a5-45ec-99a4-4045ce971599.jsonl"])
    titled = session_summary(archive.db.conn, "491e126e")
    assert titled.title and titled.title.startswith("/handgemacht:create-beads websearch")
    assert session_summary(archive.db.conn, "3bc69d40").title is None


def _outcome(parse: Callable[[str | bytes], object], data: str | bytes) -> tuple[str, str]:
    """What a parser makes of ``data``: the value (as canonical JSON) or the kind of error."""
    try:
        return "value", json.dumps(parse(data), sort_keys=True)
    except RecursionError:
        return "error", "recursion"
    except ValueError:
        return "error", "value"


json_texts = st.one_of(
    st.tuples(st.sampled_from(["", " ", "\n\t\r "]),
              st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                           lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                           max_leaves=12).map(json.dumps),
              st.sampled_from(["", " ", "\n", " x", "]", "{}", " 1"])).map("".join),
    st.text(alphabet='{}[]":,0123456789.eE+-ntrufalsNIiy \\\n\x01\ufeff', max_size=30),
    st.text(max_size=30),
)


@settings(max_examples=400)
@given(json_texts, st.booleans())
def test_the_status_lines_json_reader_agrees_with_json(text: str, as_bytes: bool) -> None:
    """``jsonlite.loads`` (the status line skips importing ``json``) answers exactly what
    ``json.loads`` does: the same value, or an error where it has one."""
    data = text.encode("utf-8", "surrogatepass") if as_bytes else text
    assert _outcome(loads, data) == _outcome(json.loads, data)


@given(st.binary(max_size=60))
def test_the_status_lines_json_reader_agrees_with_json_on_any_bytes(data: bytes) -> None:
    assert _outcome(loads, data) == _outcome(json.loads, data)


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
                    lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=8) | st.integers() | st.booleans(),
                                      inner, max_size=4),
                    max_leaves=12), st.booleans())
def test_the_hooks_json_writer_agrees_with_json(value: object, ensure_ascii: bool) -> None:
    assert dumps(value, ensure_ascii=ensure_ascii) == json.dumps(value, ensure_ascii=ensure_ascii)


def test_the_hooks_json_writer_refuses_what_json_refuses() -> None:
    for value in ({"a": b"bytes"}, {(1, 2): 3}, [object()]):
        with pytest.raises(TypeError):
            dumps(value)
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(ValueError):
        dumps(loop)


def test_the_hooks_json_writer_hands_what_its_encoder_cannot_do_to_json(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The C encoder is driven directly; should it ever fail in a new way (a future ``_json``),
    ``json.dumps`` answers instead, as ``loads`` does for the scanner."""
    from session_core.base import jsonlite

    def broken(ensure_ascii: bool) -> Callable[[object, int], list[str]]:
        def encode(value: object, indent: int) -> list[str]:
            raise SystemError("error return without exception set")
        return encode

    monkeypatch.setattr(jsonlite, "_make_encoder", broken)
    value = {"session": "é", "n": [1, 2.5, None, True]}
    assert dumps(value) == json.dumps(value)
    assert dumps(value, ensure_ascii=False) == json.dumps(value, ensure_ascii=False)
    with pytest.raises(TypeError):
        dumps({"a": b"bytes"})


MALFORMED = ["[1,2", '{"a" 1}', '"\x01"', "nul", "1 2", "", " ", '{"a":1}x', "\ufeff{}"]


def test_the_hooks_json_reader_raises_jsons_errors_in_a_process_without_json() -> None:
    """Hooks never import ``json``; before Python 3.12 the C scanner then reported a syntax
    error as a bare SystemError, which no caller catches (a transcript with one broken line
    failed at every Stop). Run where ``json`` is not loaded, with ``-S`` (no site)."""
    import subprocess
    import sys

    import zstandard

    script = (
        "import sys\n"
        "from session_core.base.jsonlite import loads\n"
        "assert 'json' not in sys.modules\n"
        "for text in eval(sys.stdin.read()):\n"
        "    try:\n"
        "        print(repr(('value', loads(text))))\n"
        "    except ValueError as exc:\n"
        "        print(repr((type(exc).__name__, str(exc))))\n")
    path = os.pathsep.join([str(REPO), os.path.dirname(os.path.dirname(zstandard.__file__))])
    done = subprocess.run([sys.executable, "-S", "-c", script], input=repr(MALFORMED),
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": path},
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    expected = []
    for text in MALFORMED:
        try:
            expected.append(("value", json.loads(text)))
        except ValueError as exc:
            expected.append((type(exc).__name__, str(exc)))
    assert [eval(line) for line in done.stdout.splitlines()] == expected


def _attributes(record: object) -> dict[str, object]:
    """What a parsed record says, whichever parser made it: every attribute of
    ``records.Record`` (its message and tool result by their fields)."""
    from session_core.transcript.records import Record, is_message, is_tool_use_result

    said: dict[str, object] = {}
    for name in Record.__slots__:
        value = getattr(record, name)
        if is_message(value):
            value = ("message", value.id, value.role, value.model, value.content, value.usage)
        elif is_tool_use_result(value):
            value = ("tool result", value.task, value.tasks)
        said[name] = value
    return said


def _both_parsers(line: bytes) -> tuple[dict[str, object] | None, dict[str, object] | None]:
    """What the hooks' parser and the bulk parser say of ``line`` (None: refused)."""
    from session_core.transcript.records_bulk import parse_record_bulk

    said: list[dict[str, object] | None] = []
    for parse in (parse_record, parse_record_bulk):
        try:
            said.append(_attributes(parse(line)))
        except RecordError:
            said.append(None)
    return said[0], said[1]


def test_the_bulk_parser_says_what_the_hook_parser_says_on_every_corpus_line() -> None:
    """Imports parse with pydantic, hooks with the standard library; the index and the digests
    both rely on the two agreeing, attribute for attribute, line for line."""

    lines = compared = 0
    for path in sorted(SHARED.rglob("*.jsonl")):
        for line in path.read_bytes().splitlines():
            lines += 1
            hooks, bulk = _both_parsers(line)
            assert hooks == bulk, (path.name, line[:200])
            compared += hooks is not None
    assert lines > 2000 and compared > lines * 0.9, (lines, compared)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(record_like)
def test_the_two_parsers_agree_on_any_record_shape(data: dict[str, object]) -> None:
    hooks, bulk = _both_parsers(json.dumps(data).encode())
    assert hooks == bulk


EDGE_LINES = [
    b'{"type":"user","sessionId":"a","x":NaN}',
    b'{"type":"user","sessionId":"a","x":1e400}',
    b'{"type":"user","sessionId":"a","timestamp":"t1","timestamp":"t2"}',
    b'{"type":"user","sessionId":"a","message":{"role":"user","content":"hi \\ud800 x"}}',
    b'{"type":"user","sessionId":"a","message":{"role":"user","content":"\xff\xfe"}}',
    b'\xef\xbb\xbf{"type":"user","sessionId":"a"}',
    '{"type":"user","sessionId":"a"}'.encode("utf-16-le"),
    '{"type":"user","sessionId":"a"}'.encode("utf-32"),
    b'{"type":"user","sessionId":"a","message":{"role":"user","content":"a\\u0000b"}}',
    b'{"type":"user","sessionId":"a","message":"str"}',
    b'{"type":"user","sessionId":"a","n":123456789012345678901234567890}',
    b' {"type":"user"} ',
    b'{"type":"user"}\r',
    b'{"type":"assistant","message":{"content":[{"type":"text","text":"\xed\xa0\x80"}]}}',
]


@pytest.mark.parametrize("line", EDGE_LINES)
def test_the_two_parsers_agree_on_lines_no_client_writes(line: bytes) -> None:
    """A file a user edited or another tool wrote (a byte-order mark, another encoding,
    duplicate keys, numbers past a float): whichever parser reads it, the same index."""
    hooks, bulk = _both_parsers(line)
    assert hooks == bulk
