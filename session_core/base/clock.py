"""The one timestamp format we write: UTC, milliseconds, ``Z``, as Claude Code writes its
records (``2026-11-23T08:49:53.123Z``). Stored times are compared as strings (the open sessions
of the last week, a reply newer than the transcript), which only holds in one format."""

from __future__ import annotations

import time


def utc_stamp(seconds: float | None = None) -> str:
    """``seconds`` since the epoch (default: now) in the stored format."""
    now = time.time() if seconds is None else seconds
    whole = int(now // 1)
    millis = int((now - whole) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}Z"


def stamp_seconds(stamp: str) -> float:
    """The inverse of :func:`file_stamp` (to the second); ``ValueError`` for another text."""
    import calendar  # only commands read stamps back

    return float(calendar.timegm(time.strptime(stamp[:15], "%Y%m%dT%H%M%S")))


def file_stamp(seconds: float | None = None) -> str:
    """The same instant for a file name (no colons), sorting as the stored format does."""
    now = time.time() if seconds is None else seconds
    whole = int(now // 1)
    micros = int((now - whole) * 1_000_000)
    return time.strftime("%Y%m%dT%H%M%S", time.gmtime(whole)) + f"{micros:06d}Z"


def minute_text(stamp: str | None) -> str:
    """A stored time as people read it in a note: ``2026-11-23 08:49 UTC``."""
    return stamp[:16].replace("T", " ") + " UTC" if stamp else "at an unknown time"


def local_time(stamp: object) -> str:
    """A stored UTC time as the reader's local time with its zone (``2026-11-23 09:49:53
    CET``): how ``show`` and the exports date a message; ``-`` when there is none."""
    if not isinstance(stamp, str) or len(stamp) < 19:
        return "-"
    import calendar  # only commands read stamps back

    try:
        seconds = calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S"))
    except ValueError:
        return stamp[:19]
    return time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(seconds))
