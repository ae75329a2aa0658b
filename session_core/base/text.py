"""Cutting text to a size: the one helper for titles, index text, handoff quotes and log lines."""

from __future__ import annotations

ELLIPSIS = "…"
_WORD_BACK = 40
"""A cut marked with an ellipsis goes back to the last space within this many characters: a
word (a key, a token) is shown whole or not at all. A longer one stays long enough for the
redaction's patterns to recognise what is left of it."""


def clip(text: str, limit: int, *, flatten: bool = False, ellipsis: bool = False) -> str:
    """``text`` in at most ``limit`` characters.

    ``flatten`` collapses every run of whitespace (newlines too) into one space first, for text
    shown on one line; ``ellipsis`` marks a cut with "…" (counted in ``limit``) where a reader
    should know something is missing, and is left out where the text is only indexed; such a
    cut never splits a word shorter than 40 characters.
    """
    if flatten:
        text = " ".join(text.split())
    if len(text) <= limit:
        return text
    if ellipsis and limit > 0:
        cut = text[: limit - 1]
        back = max(0, len(cut) - _WORD_BACK)
        space = max(cut.rfind(" ", back), cut.rfind("\n", back))
        if space > 0:  # never half a word: half a token would slip past the redaction
            cut = cut[:space].rstrip()
        return cut + ELLIPSIS
    return text[:limit]


def short_path(path: str, project: str | None) -> str:
    """A path relative to the project root when it is inside it, else as it was: shorter to
    read, and what the next session's tools expect."""
    if project:
        root = project.rstrip("/") + "/"
        if path.startswith(root):
            return path[len(root):]
    return path


def quoted(text: str | None, limit: int) -> str:
    """``text`` on one line, cut to ``limit``, in double quotes: a request or a reply cited."""
    return f'"{clip(text or "", limit, flatten=True, ellipsis=True)}"'


def counted(number: int, noun: str) -> str:
    """``1 prompt``, ``2 prompts``, ``1,500 tool calls``: a count a person reads."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"
