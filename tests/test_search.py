"""Search as a user types it, over the archive of the shared corpus: the session a distinctive
identifier comes from ranks first, words with ``-``, ``.``, ``/`` and ``::`` work, filters
narrow, hits come grouped by session with a snippet of the matched text, redacted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from session_core.cli.search import fts_query, snippet

from .conftest import corpus_transcripts, imported_corpus, run_cli

TRANSCRIPTS = corpus_transcripts()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return imported_corpus(tmp_path_factory, "search project")


def search(project: Path, *args: str) -> list[dict[str, Any]]:
    done = run_cli("search", *args, "--json", "--project", str(project))
    assert done.returncode == 0, done.stderr
    hits: list[dict[str, Any]] = json.loads(done.stdout)
    return hits


@pytest.mark.parametrize(("query", "session"), [
    ("Confab-Session-URL", "14c1c0d7"),
    ("highlight-integration.test.js", "8463c716"),
    ("lib/spotter/telemetry/otel.ex", "ae4a77f8"),
    ("Spotter.Telemetry.Otel", "ae4a77f8"),
    ("spotter-4te.3", "ae4a77f8"),
    ('"add retry logic"', "6b32797c"),
])
def test_the_session_an_identifier_comes_from_ranks_first(corpus: Path, query: str,
                                                          session: str) -> None:
    hits = search(corpus, query, "--limit", "5")
    assert hits and hits[0]["session_id"].startswith(session), [h["session_id"] for h in hits]
    assert {"session_id", "uuid", "timestamp", "role", "kind", "tool", "snippet",
            "score"} <= set(hits[0])


def test_filters_narrow_as_documented(corpus: Path) -> None:
    everything = search(corpus, "mix test", "--limit", "200")
    users = search(corpus, "mix test", "--role", "user", "--limit", "200")
    bash = search(corpus, "mix test", "--tool", "Bash", "--limit", "200")
    assert users and {h["role"] for h in users} == {"user"} and len(users) < len(everything)
    assert bash and {h["tool"] for h in bash} == {"Bash"}
    one = search(corpus, "mix test", "--session", "8463c716", "--limit", "200")
    assert one and {h["session_id"][:8] for h in one} == {"8463c716"}
    assert search(corpus, "mix test", "--since", "2030-01-01") == []
    old = search(corpus, "mix test", "--until", "2026-02-11", "--limit", "200")
    assert old and all(h["timestamp"] < "2026-02-11" for h in old)
    assert search(corpus, "mix test", "--branch", "no-such-branch") == []


def test_hits_come_grouped_by_session_with_the_match_in_a_snippet(corpus: Path) -> None:
    done = run_cli("search", "retry", "--project", str(corpus))
    text = done.stdout.decode()
    assert done.returncode == 0 and text.startswith("6b32797c")
    assert "«retry»" in text and " hits" in text
    nothing = run_cli("search", "zzqxnomatchqq", "--project", str(corpus))
    assert nothing.returncode == 3 and b"nothing in the archive matches" in nothing.stderr
    assert b"Try: a prefix (zzqx*)\n" in nothing.stderr, nothing.stderr  # of its own word
    nothing = run_cli("search", "qqxz zzqxnomatchqq", "--role", "user", "--project",
                      str(corpus))
    assert b"Try: fewer words, a prefix (zzqx*) or without --role\n" in nothing.stderr, \
        nothing.stderr


def test_a_query_fts5_cannot_parse_has_its_own_exit_code(corpus: Path) -> None:
    for query in ("AND", "a NEAR(", "OR OR"):
        bad = run_cli("search", query, "--project", str(corpus))
        assert bad.returncode == 10, (query, bad.stderr)
        assert bad.stderr.startswith(b"Error: cannot search for") and b"Try: " in bad.stderr


def test_queries_mean_what_was_typed() -> None:
    assert fts_query("fetch_user") == "fetch_user"
    assert fts_query("v2.1.38 src/app.py Foo::bar") == \
        '"v2.1.38" AND "src/app.py" AND "Foo::bar"'
    assert fts_query('retr* AND "a phrase" NOT x-y') == 'retr* AND "a phrase" NOT "x-y"'
    assert fts_query('"unclosed phrase') == '"unclosed phrase"'
    assert fts_query("error-code*") == '"error-code"*'
    assert fts_query('"fetch user"*') == '"fetch user"*'
    assert fts_query("(retry OR helper) logic") == "( retry OR helper ) AND logic"
    assert fts_query("fetch_user() f(x") == '"fetch_user()" AND "f(x"'  # code, not groups
    assert fts_query('" * -') == ""  # nothing to look for


def test_search_reads_a_rewritten_transcripts_older_hits_and_odd_dates(tmp_path: Path) -> None:
    """Found in review: entries keep their generation's offsets; a rewritten (shorter) file
    made search call a healthy archive damaged."""
    source = next(p for p in TRANSCRIPTS if p.name == "sample_main_transcript.jsonl")
    project = tmp_path / "rewritten"
    project.mkdir()
    transcript = tmp_path / source.name
    lines = source.read_bytes().splitlines(keepends=True)
    transcript.write_bytes(b"".join(lines))
    assert run_cli("import", str(transcript), "--project", str(project)).returncode == 0
    transcript.write_bytes(b"".join(lines[:30]))  # rewritten, shorter: a new generation
    assert run_cli("import", str(transcript), "--project", str(project)).returncode == 0
    hits = search(project, "Compacted", "--limit", "5")
    assert hits and all(h["snippet"] and h["uuid"] for h in hits)
    since = search(project, "the", "--since", "2026-01-02 19:20", "--limit", "500")
    assert since and all(h["timestamp"] >= "2026-01-02T19:20:00.000Z" for h in since)
    bad = run_cli("search", "the", "--since", "2026-99-99", "--project", str(project))
    assert bad.returncode == 2 and b"is not a date" in bad.stderr


def test_a_snippet_shows_the_match_and_hides_secrets(corpus: Path, tmp_path: Path) -> None:
    text, found = snippet("a " * 300 + "the needle is here " + "b " * 300, ["needle"])
    assert "needle" in text and found == ["needle"] and len(text) <= 222
    key = "sk-ant-api03-" + "Zx8Qw2Er4Ty6Ui8Op0As2Df4Gh6Jk8Lz0Xc2Vb4Nm6"
    line = json.dumps({"type": "user", "sessionId": "77777777-1111-4222-8333-444444444444",
                       "uuid": "77777777-1111-4222-8333-555555555555",
                       "timestamp": "2026-11-30T10:00:00.000Z",
                       "message": {"role": "user", "content": f"deploy with {key} please"}})
    transcript = tmp_path / "77777777-1111-4222-8333-444444444444.jsonl"
    transcript.write_text(line + "\n")
    project = tmp_path / "secret project"
    project.mkdir()
    assert run_cli("import", str(transcript), "--project", str(project)).returncode == 0
    [hit] = search(project, "deploy")
    assert key not in hit["snippet"] and "[redacted:" in hit["snippet"]


def test_show_prints_a_long_session_whole_with_results_folded(corpus: Path) -> None:
    """The 1,593-line session: every message, tool results folded to their first lines."""
    done = run_cli("show", "8463c716", "--project", str(corpus))
    text = done.stdout.decode()
    assert done.returncode == 0 and "not shown" not in text
    assert "Work on bead spotter-fum" in text and "All done. Here's the summary" in text
    assert "more line(s)" in text and "  ✗ error" in text and "tool Bash: " in text
    assert text.count("\n  →") + text.count("\n  ✗ error") >= 100  # each call's result
    tail = run_cli("show", "8463c716", "--tail", "5", "--project", str(corpus)).stdout.decode()
    assert "earlier message(s) not shown: --tail" in tail
    assert "\n    Work on bead" not in tail  # the title says it; the first prompt is cut
    both = run_cli("show", "8463c716", "--tail", "5", "--limit", "5", "--project", str(corpus))
    assert both.returncode == 2


def test_a_snippet_deep_in_a_long_record_is_the_text_around_the_match() -> None:
    """A 1.5 MB tool result with the match near its end: the window around it, flattened, the
    same as where the match has only its window's lead before it; far-apart words (runs of
    whitespace and control characters between them) are shown one space apart."""
    lead = " ".join(f"w{n}" for n in range(200_000))
    context = " ".join(f"c{n}" for n in range(200)) + " x1 \x01 x2\n\n\tx3  " + " " * 5000 + \
        "x4 \x07needle\x1f x5 " + "\n" * 3000 + " ".join(f"y{n}" for n in range(300))
    deep, found = snippet(lead + " " + context + " tail", ["needle", "x2", "absent"])
    near, _ = snippet("a " * 400 + context + " tail", ["needle", "x2", "absent"])
    assert deep == near and found == ["x2", "needle"]
    assert deep.startswith("…") and deep.endswith("…") and len(deep) <= 222
    assert "c199 x1 x2 x3 x4 needle x5 y0 y1" in deep
    whole, found = snippet(" ".join(f"w{n}" for n in range(30)), ["w29", "w2"])
    assert whole == " ".join(f"w{n}" for n in range(30)) and found == ["w2", "w29"]
    spaced, found = snippet(" " * 10_000 + "start " + "\n" * 10_000 + "needle" + " " * 10_000,
                            ["needle"])
    assert spaced == "start needle" and found == ["needle"]


def test_hits_in_one_frame_each_show_their_own_text(tmp_path: Path) -> None:
    """Several hits of one session are read from the frame they share (decompressed once):
    each still shows its own record."""
    session = "88888888-1111-4222-8333-444444444444"
    lines = [json.dumps({"type": "user", "sessionId": session,
                         "uuid": f"88888888-1111-4222-8333-{n:012d}",
                         "timestamp": f"2026-11-30T10:{n:02d}:00.000Z",
                         "message": {"role": "user", "content": f"shared word, marker{n}x"}})
             for n in range(12)]
    transcript = tmp_path / f"{session}.jsonl"
    transcript.write_text("\n".join(lines) + "\n")
    project = tmp_path / "one frame"
    project.mkdir()
    assert run_cli("import", str(transcript), "--project", str(project)).returncode == 0
    hits = search(project, "shared word")
    assert len(hits) == 12
    for hit in hits:
        n = int(hit["uuid"].rsplit("-", 1)[1])
        assert f"marker{n}x" in hit["snippet"] and hit["timestamp"][14:16] == f"{n:02d}"


def test_a_snippet_marks_whole_words_as_fts5_matched_them() -> None:
    text, found = snippet("The Logger wrote a log line and retries", ["log", "retr*"])
    assert found == ["log", "retr*"]
    from session_core.cli.search import _mark

    assert _mark(text, found, tty=False) == "The Logger wrote a «log» line and «retries»"


def test_an_empty_filter_is_a_usage_error(corpus: Path) -> None:
    for name in ("--tool", "--role", "--session", "--branch"):
        done = run_cli("search", "retry", name, "", "--project", str(corpus))
        assert done.returncode == 2 and b"is empty" in done.stderr, name
