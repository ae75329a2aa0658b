"""List prices of Claude models, for an estimate of what a session cost when its transcript
recorded none (Claude Code stopped writing ``costUSD`` on each message; its ``cost-state``
total, where there is one, always wins over this table).

USD per million tokens, taken on 2026-12-01 from Anthropic's public pricing page
(https://platform.claude.com/docs/en/about-claude/pricing, "Model pricing" and "Long context
pricing") and, for the 5.x models, their model overview pages on the same site; the Sonnet 5.5
cache read is the price of 2026-10-07 on ($0.20 before). An estimate is only as good as this
table: cache writes are priced at the 5-minute rate (the usage rows do not keep the 1-hour
share, which costs more), and batch, fast-mode, regional and subscription prices are not
modelled. A model missing here has no price: it is counted in tokens, never guessed.
"""

from __future__ import annotations

PRICES_AS_OF = "2026-12-01"

Rates = tuple[float, float, float, float]
"""(input, output, cache write of 5 minutes, cache read), USD per million tokens."""

_OPUS_4_5 = (5.0, 25.0, 6.25, 0.50)
_OPUS_4 = (15.0, 75.0, 18.75, 1.50)
_SONNET_4 = (3.0, 15.0, 3.75, 0.30)
_SONNET_4_LONG = (200_000, (6.0, 22.50, 7.50, 0.60))
"""Sonnet 4 and 4.5 with the 1M context window: a request whose prompt passes 200K tokens
pays these rates on all of its tokens."""

PRICES: tuple[tuple[str, Rates, tuple[int, Rates] | None], ...] = (
    # (model id prefix, rates, (prompt tokens over which, the rates of a long prompt) or None)
    ("claude-fable-5-1", (10.0, 50.0, 12.50, 0.25), None),
    ("claude-fable-5", (10.0, 50.0, 12.50, 1.0), None),
    ("claude-opus-5-5", (4.0, 20.0, 5.0, 0.20), None),
    ("claude-opus-5", _OPUS_4_5, None),
    ("claude-opus-4-8", _OPUS_4_5, None),
    ("claude-opus-4-7", _OPUS_4_5, None),
    ("claude-opus-4-6", _OPUS_4_5, None),
    ("claude-opus-4-5", _OPUS_4_5, None),
    ("claude-opus-4-1", _OPUS_4, None),
    ("claude-opus-4", _OPUS_4, None),
    ("claude-3-opus", _OPUS_4, None),
    ("claude-sonnet-5-5", (2.0, 10.0, 2.50, 0.10), None),
    ("claude-sonnet-5", (2.0, 10.0, 2.50, 0.20), None),
    ("claude-sonnet-4-6", _SONNET_4, None),
    ("claude-sonnet-4-5", _SONNET_4, _SONNET_4_LONG),
    ("claude-sonnet-4", _SONNET_4, _SONNET_4_LONG),
    ("claude-3-7-sonnet", _SONNET_4, None),
    ("claude-3-5-sonnet", _SONNET_4, None),
    ("claude-haiku-5-5", (0.10, 0.50, 0.125, 0.01), (100_000, (0.50, 2.50, 0.625, 0.05))),
    ("claude-haiku-4-5", (1.0, 5.0, 1.25, 0.10), None),
    ("claude-3-5-haiku", (0.80, 4.0, 1.0, 0.08), None),
    ("claude-3-haiku", (0.25, 1.25, 0.30, 0.03), None),
)
"""Longer prefixes first. A prefix names one model: what follows it in a model id may only be
a date (``-20251101``, then anything: ``-v1:0``), ``@`` (Vertex AI) or ``[`` (``[1m]``), so
``claude-opus-4`` is not taken for a future ``claude-opus-4-9``."""


def estimate_usd(model: str | None, input_tokens: int, output_tokens: int,
                 cache_write_tokens: int, cache_read_tokens: int) -> float | None:
    """What one API request would cost at list price, or None for a model this table does
    not know. One request at a time: a long-prompt price depends on that request's prompt."""
    name = (model or "").lower()
    name = name.split("anthropic.", 1)[1] if "anthropic." in name else name  # Bedrock ids
    for prefix, rates, long_prompt in PRICES:
        rest = name[len(prefix):] if name.startswith(prefix) else None
        if rest is None or not (rest == "" or rest[0] in "@[" or (
                rest[0] == "-" and rest[1:9].isdigit() and len(rest[1:9]) == 8)):
            continue
        prompt = input_tokens + cache_write_tokens + cache_read_tokens
        if long_prompt is not None and prompt > long_prompt[0]:
            rates = long_prompt[1]
        return (input_tokens * rates[0] + output_tokens * rates[1]
                + cache_write_tokens * rates[2] + cache_read_tokens * rates[3]) / 1_000_000
    return None
