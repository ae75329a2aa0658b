"""``session-core stats``: numbers that match what the transcripts say (tokens once per
message id, ``<synthetic>`` turns left out, list prices as the table says, unknown models "no
price", recorded costs winning), active time with idle gaps capped, local days, ``--since``,
``--json``, and the HTML report as headless Chromium renders it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from session_core.base.pricing import estimate_usd
from session_core.cli.stats_text import duration

from .browser import render
from .conftest import corpus_transcripts, run_cli

SESSION_A = "aaaaaaaa-0000-4000-8000-000000000001"
SESSION_B = "bbbbbbbb-0000-4000-8000-000000000002"
SESSION_C = "cccccccc-0000-4000-8000-000000000003"
SONNET = "claude-sonnet-4-5-20250929"
HAIKU = "claude-haiku-4-5-20251001"
MYSTERY = "mystery<b>9</b>"
"""A model no price table knows, with markup in its name (the report must escape it)."""


def _record(session: str, kind: str, at: str, n: int, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "sessionId": session, "uuid": f"{session[:8]}-{kind}-{n}",
            "timestamp": at, "isSidechain": False, "cwd": "/proj", "version": "2.1.50",
            "gitBranch": "main", **fields}


def _prompt(session: str, at: str, n: int, text: str) -> dict[str, Any]:
    return _record(session, "user", at, n, message={"role": "user", "content": text})


def _reply(session: str, at: str, n: int, message_id: str, model: str,
           usage: tuple[int, int, int, int], content: list[dict[str, Any]],
           **fields: Any) -> dict[str, Any]:
    tokens = dict(zip(("input_tokens", "output_tokens", "cache_creation_input_tokens",
                       "cache_read_input_tokens"), usage, strict=True))
    return _record(session, "assistant", at, n, message={
        "id": message_id, "role": "assistant", "model": model, "content": content,
        "usage": tokens}, **fields)


def _edit(use_id: str, path: str) -> dict[str, Any]:
    return {"type": "tool_use", "id": use_id, "name": "Edit",
            "input": {"file_path": path, "old_string": "a", "new_string": "b"}}


def _result(session: str, at: str, n: int, use_id: str, text: str) -> dict[str, Any]:
    return _record(session, "user", at, n, message={"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": use_id, "content": text}]})


def synthetic_transcripts(folder: Path) -> list[Path]:
    """Three sessions with usage we know.

    A (2026-03-01, its last turn after UTC midnight): ``msg_1`` on two lines that repeat its
    usage, an Edit of /proj/src/app.py; ``msg_2`` a ``<synthetic>`` API-error turn with huge
    numbers; ``msg_3`` of an unknown model; a second prompt 23:58 (after a 13 h pause);
    ``msg_4`` at 00:00:30 the next day, running Bash.
    B (2026-03-05 20:00 UTC, 03-06 in Tokyo): ``msg_5``, a million input tokens of Haiku 4.5.
    C: ``msg_6`` with Claude Code's own ``costUSD`` of $0.50 (older transcripts).
    """
    a = [
        _prompt(SESSION_A, "2026-03-01T10:00:00.000Z", 1, "please fix app.py"),
        _reply(SESSION_A, "2026-03-01T10:00:10.000Z", 2, "msg_1", SONNET,
               (1000, 500, 2000, 10000), [{"type": "text", "text": "Editing."}]),
        _reply(SESSION_A, "2026-03-01T10:00:12.000Z", 3, "msg_1", SONNET,
               (1000, 500, 2000, 10000), [_edit("toolu_1", "/proj/src/app.py")]),
        _result(SESSION_A, "2026-03-01T10:00:13.000Z", 4, "toolu_1",
                "The file /proj/src/app.py has been updated successfully."),
        _reply(SESSION_A, "2026-03-01T10:01:00.000Z", 5, "msg_2", "<synthetic>",
               (999_999, 999_999, 0, 0), [{"type": "text", "text": "API Error"}]),
        _reply(SESSION_A, "2026-03-01T10:02:00.000Z", 6, "msg_3", MYSTERY,
               (100, 50, 0, 0), [{"type": "text", "text": "Done."}]),
        _prompt(SESSION_A, "2026-03-01T23:58:00.000Z", 7, "now run the tests"),
        _reply(SESSION_A, "2026-03-02T00:00:30.000Z", 8, "msg_4", SONNET, (10, 20, 0, 0),
               [{"type": "tool_use", "id": "toolu_2", "name": "Bash",
                 "input": {"command": "pytest -q"}}]),
    ]
    b = [
        _prompt(SESSION_B, "2026-03-05T20:00:00.000Z", 1, "summarise the logs"),
        _reply(SESSION_B, "2026-03-05T20:00:20.000Z", 2, "msg_5", HAIKU, (1_000_000, 0, 0, 0),
               [{"type": "text", "text": "Summary."}]),
    ]
    c = [
        _prompt(SESSION_C, "2026-03-07T09:00:00.000Z", 1, "hello"),
        _reply(SESSION_C, "2026-03-07T09:00:05.000Z", 2, "msg_6", SONNET, (1, 1, 0, 0),
               [{"type": "text", "text": "Hi."}], costUSD=0.5),
    ]
    paths = []
    for session, records in ((SESSION_A, a), (SESSION_B, b), (SESSION_C, c)):
        path = folder / f"{session}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
        paths.append(path)
    return paths


@pytest.fixture
def known(project: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "transcripts"
    folder.mkdir()
    done = run_cli("import", *map(str, synthetic_transcripts(folder)), "--project", str(project))
    assert done.returncode == 0, done.stderr
    return project


def stats(project: Path, *args: str, tz: str = "UTC") -> dict[str, Any]:
    done = run_cli("stats", *args, "--json", "--project", str(project), env={"TZ": tz})
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data


SONNET_MSG_1 = (1000 * 3 + 500 * 15 + 2000 * 3.75 + 10000 * 0.30) / 1e6  # $0.021
SONNET_MSG_4 = (10 * 3 + 20 * 15) / 1e6


def test_tokens_once_per_message_synthetic_left_out_and_priced_as_the_table_says(
        known: Path) -> None:
    data = stats(known)
    totals = data["totals"]
    assert totals["messages"] == 5  # msg_1 once, msg_2 (<synthetic>) not at all
    assert totals["input_tokens"] == 1000 + 100 + 10 + 1_000_000 + 1
    assert totals["output_tokens"] == 500 + 50 + 20 + 1
    assert totals["cache_creation_tokens"] == 2000 and totals["cache_read_tokens"] == 10000
    models = {m["model"]: m for m in data["by_model"]}
    assert set(models) == {SONNET, HAIKU, MYSTERY}
    assert models[HAIKU]["cost_usd"] == pytest.approx(1.0)
    assert models[HAIKU]["cost_estimated"] is True
    sonnet = models[SONNET]
    assert sonnet["messages"] == 3
    assert sonnet["cost_estimated_usd"] == pytest.approx(SONNET_MSG_1 + SONNET_MSG_4)
    assert sonnet["cost_recorded_usd"] == pytest.approx(0.5)  # msg_6's own costUSD wins
    assert models[MYSTERY]["cost_usd"] is None and models[MYSTERY]["unpriced_messages"] == 1
    assert models[MYSTERY]["input_tokens"] == 100  # counted in tokens, not guessed in cost
    assert totals["cost_usd"] == pytest.approx(1.5 + SONNET_MSG_1 + SONNET_MSG_4)
    assert totals["unpriced_messages"] == 1


def test_active_time_turns_tools_and_files(known: Path) -> None:
    data = stats(known)
    totals = data["totals"]
    assert data["idle_cutoff_seconds"] == 300
    # A: 10 + 2 + 1 + 47 + 60 s, the 13 h pause capped at 300 s, then 150 s; B: 20 s; C: 5 s
    assert totals["active_seconds"] == 10 + 2 + 1 + 47 + 60 + 300 + 150 + 20 + 5
    assert totals["sessions"] == 3 and totals["turns"] == 4
    assert data["tools"] == [{"tool": "Bash", "calls": 1}, {"tool": "Edit", "calls": 1}]
    assert [(f["path"], f["edits"], f["sessions"]) for f in data["files"]] == [
        ("/proj/src/app.py", 1, 1)]


def test_days_are_local_and_a_session_over_midnight_is_split(known: Path) -> None:
    utc = {d["day"]: d for d in stats(known)["by_day"]}
    assert sorted(utc) == ["2026-03-01", "2026-03-02", "2026-03-05", "2026-03-07"]
    assert utc["2026-03-01"]["messages"] == 2 and utc["2026-03-02"]["messages"] == 1
    assert utc["2026-03-02"]["output_tokens"] == 20  # msg_4, read back from the transcript
    assert utc["2026-03-01"]["active_seconds"] == 420
    tokyo = {d["day"]: d for d in stats(known, tz="Asia/Tokyo")["by_day"]}
    assert "2026-03-05" not in tokyo  # 20:00 UTC is the next morning in Tokyo
    assert tokyo["2026-03-06"]["input_tokens"] == 1_000_000 and tokyo["2026-03-06"]["turns"] == 1
    assert utc["2026-03-01"]["turns"] == 2  # A's second prompt, 23:58 UTC, is 08:58 in Tokyo
    assert tokyo["2026-03-01"]["turns"] == 1 and tokyo["2026-03-02"]["turns"] == 1


def test_since_narrows_to_what_happened_from_then_on(known: Path) -> None:
    data = stats(known, "--since", "2026-03-02")
    totals = data["totals"]
    assert data["since"] == "2026-03-02T00:00:00.000Z"
    assert totals["sessions"] == 3 and totals["messages"] == 3  # msg_4 of A, B's, C's
    assert totals["input_tokens"] == 10 + 1_000_000 + 1
    assert totals["turns"] == 2
    assert data["tools"] == [{"tool": "Bash", "calls": 1}] and data["files"] == []
    assert stats(known, "--since", "2030-01-01")["by_day"] == []
    bad = run_cli("stats", "--since", "last tuesday", "--project", str(known))
    assert bad.returncode == 2 and bad.stderr.startswith(b"Error: --since")


def test_one_session_and_the_text_output(known: Path) -> None:
    one = stats(known, SESSION_B[:8])
    assert one["session"] == SESSION_B and one["totals"]["messages"] == 1
    assert one["files"] == [] and one["totals"]["turns"] == 1
    missing = run_cli("stats", "ffffffff", "--project", str(known))
    assert missing.returncode == 3 and b"no session" in missing.stderr
    text = run_cli("stats", "--project", str(known), env={"TZ": "UTC"}).stdout.decode()
    assert "Tokens       1,013,682 in 5 model responses" in text
    assert "up to 5 min" in text and "2026-03-01" in text
    assert "no price" in text and MYSTERY in text and "~$1.52+" in text
    assert "src/app.py" in text


def test_list_falls_back_to_the_estimate_marked(known: Path) -> None:
    listed = {s["uuid"]: s for s in json.loads(
        run_cli("list", "--json", "--project", str(known)).stdout)}
    assert listed[SESSION_C]["cost_usd"] == pytest.approx(0.5)
    assert listed[SESSION_C]["cost_estimated"] is False
    assert listed[SESSION_B]["cost_usd"] == pytest.approx(1.0)
    assert listed[SESSION_B]["cost_estimated"] is True
    rows = run_cli("list", "--project", str(known)).stdout.decode().splitlines()
    assert any(r.startswith(SESSION_B) and " ~$1.00 " in r for r in rows)
    assert any(r.startswith(SESSION_C) and " $0.50 " in r for r in rows)


def test_prices_match_model_ids_by_prefix_and_refuse_to_guess() -> None:
    assert estimate_usd("claude-opus-4-5-20251101", 1_000_000, 1_000_000, 0, 0) == 30.0
    assert estimate_usd("claude-opus-4-20250514", 0, 1_000_000, 0, 0) == 75.0
    assert estimate_usd("claude-opus-4-1@20250805", 1_000_000, 0, 0, 0) == 15.0
    assert estimate_usd("claude-opus-4-9", 1, 1, 1, 1) is None  # not Opus 4's price
    assert estimate_usd("us.anthropic.claude-haiku-4-5-20251001-v1:0", 1_000_000, 0, 0,
                        0) == 1.0
    assert estimate_usd("claude-3-5-haiku-20241022", 0, 0, 1_000_000, 1_000_000) == 1.08
    assert estimate_usd("gpt-5", 1, 1, 1, 1) is None and estimate_usd(None, 1, 1, 1, 1) is None
    # Sonnet 4.5 past 200K prompt tokens is priced at its long-context rates
    assert estimate_usd("claude-sonnet-4-5", 300_000, 0, 0, 0) == pytest.approx(1.8)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("stats corpus")
    transcripts = corpus_transcripts()
    done = run_cli("import", *map(str, transcripts), "--project", str(project))
    assert done.returncode == 0, done.stderr
    return project


def test_cost_claude_code_recorded_wins_over_the_estimate(corpus: Path) -> None:
    demo = stats(corpus, "6b32797c")  # its cost-state records say $0.028
    assert demo["totals"]["cost_usd"] == pytest.approx(0.028)
    assert demo["totals"]["cost_estimated"] is False
    assert demo["by_model"][0]["cost_recorded_usd"] == pytest.approx(0.028)


def test_the_html_report_renders_self_contained_on_a_wide_screen_and_a_phone(
        corpus: Path, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    done = run_cli("stats", "--html", str(page), "--project", str(corpus), env={"TZ": "UTC"})
    assert done.returncode == 0, done.stderr
    html = page.read_text()
    assert "Content-Security-Policy" in html and "<script" not in html
    data = stats(corpus)
    for width, height in ((1280, 900), (390, 844)):
        shot = tmp_path / f"stats-{width}.png"
        seen = render(page, shot, width=width, height=height)
        assert seen.requests == []
        assert shot.stat().st_size > 10_000
        assert f"{data['totals']['sessions']:,}" in seen.text
        assert f"~${data['totals']['cost_usd']:,.2f}" in seen.text
        assert "claude-opus-4-6" in seen.text.replace("claude- ", "claude-")
        assert "Bash" in seen.text and duration(data["totals"]["active_seconds"]) in seen.text
        assert seen.dom.count("<svg") >= 4 and "<rect" in seen.dom


def test_the_report_escapes_what_transcripts_say(known: Path, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    assert run_cli("stats", "--html", str(page), "--project", str(known)).returncode == 0
    html = page.read_text()
    assert "mystery&lt;b&gt;9&lt;/b&gt;" in html and "<b>9</b>" not in html
    seen = render(page, tmp_path / "known.png")
    assert MYSTERY in seen.text and seen.requests == []
    assert oct(page.stat().st_mode & 0o777) == "0o600"
