"""A session's facts as the exported pages head them (and the site's index lists them): the same
labels and number formats in markdown and HTML, so the two read alike."""

from __future__ import annotations

from ..base.clock import local_time
from ..base.text import counted
from ..store.summary import SessionSummary


def title_of(summary: SessionSummary) -> str:
    return " ".join((summary.title or "").split()) or f"Session {summary.uuid}"


def tokens(summary: SessionSummary) -> int:
    """Every token the session's model calls counted (cache reads included)."""
    return (summary.input_tokens + summary.output_tokens + summary.cache_creation_tokens
            + summary.cache_read_tokens)


def cost(summary: SessionSummary) -> str:
    """The one way a session's cost is written: ``$0.03`` as Claude Code recorded it,
    ``~$6.17`` estimated from list prices, ``no price`` for a model the table lacks."""
    if summary.cost_estimated:
        return "no price" if summary.cost_usd is None else f"~${summary.cost_usd:.2f}"
    return f"${summary.cost_usd:.2f}" if summary.cost_usd else "-"


def message_counts(s: SessionSummary) -> str:
    return (f"{s.messages:,} ({counted(s.prompts, 'prompt')},"
            f" {counted(s.assistant_messages, 'assistant message')},"
            f" {counted(s.tool_calls, 'tool call')}, {counted(s.subagent_files, 'subagent file')})")


def facts(summary: SessionSummary) -> list[tuple[str, str]]:
    """``(label, value)`` rows, in reading order."""
    s = summary
    return [
        ("Session", s.uuid),
        ("Project", f"{s.cwd or '-'} (branch {s.git_branch or '-'})"),
        ("Time", f"{local_time(s.first_ts)} to {local_time(s.last_ts)}"),
        ("Claude Code", f"{s.cc_version or '-'}; models {', '.join(s.models) or '-'}"),
        ("Messages", message_counts(s)),
        ("Tokens", f"in {s.input_tokens:,}, out {s.output_tokens:,}, cache write"
                   f" {s.cache_creation_tokens:,}, cache read {s.cache_read_tokens:,}"),
        ("Cost", cost(s) + (" (estimated from list prices)" if s.cost_estimated
                            and s.cost_usd is not None else "")),
    ]
