"""Cutting text to a size: the one helper for titles, index text, handoff quotes and log lines."""

from __future__ import annotations

ELLIPSIS = "…"


def clip(text: str, limit: int, *, flatten: bool = False, ellipsis: bool = False) -> str:
    """``text`` in at most ``limit`` characters.

    ``flatten`` collapses every run of whitespace (newlines too) into one space first, for text
    shown on one line; ``ellipsis`` marks a cut with "…" (counted in ``limit``) where a reader
    should know something is missing, and is left out where the text is only indexed.
    """
    if flatten:
        text = " ".join(text.split())
    if len(text) <= limit:
        return text
    if ellipsis and limit > 0:
        return text[: limit - 1] + ELLIPSIS
    return text[:limit]
