"""The one retention rule, for backups and automatic checkpoints alike: keep the newest few,
and the newest of each of the last days and ISO weeks (an hour ago, yesterday and last week
stay reachable without keeping everything)."""

from __future__ import annotations


def iso_week(day: str) -> str:
    """``YYYYMMDD`` -> ``YYYY-WW`` (ISO 8601); a text that is no date is its own week.
    Arithmetic, not ``datetime``: the hooks prune checkpoints, and neither ``datetime`` nor
    ``_strptime`` is on their path."""
    try:
        year, month, date = int(day[:4]), int(day[4:6]), int(day[6:8])
    except ValueError:
        return day
    if not (1 <= month <= 12 and 1 <= date <= 31 and year >= 1) or len(day) < 8:
        return day
    ordinal = _ordinal(year, month, date)
    thursday = ordinal - (ordinal + 6) % 7 + 3  # the week's Thursday names its ISO year
    iso_year = year + 1 if thursday >= _ordinal(year + 1, 1, 1) else \
        year - 1 if thursday < _ordinal(year, 1, 1) else year
    return f"{iso_year}-{(thursday - _ordinal(iso_year, 1, 1)) // 7 + 1:02d}"


_DAYS_BEFORE_MONTH = (0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334)


def _ordinal(year: int, month: int, day: int) -> int:
    """Days since 0001-01-01 (day 1, a Monday), proleptic Gregorian, as ``date.toordinal``."""
    before = year - 1
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return (before * 365 + before // 4 - before // 100 + before // 400
            + _DAYS_BEFORE_MONTH[month] + (1 if leap and month > 2 else 0) + day)


def kept(days: list[str], last: int, daily: int, weekly: int) -> set[int]:
    """Indexes of ``days`` (each item's ``YYYYMMDD``, newest first) to keep: the first
    ``last``, and the first of each of the first ``daily`` distinct days and ``weekly``
    distinct weeks."""
    keep = set(range(min(last, len(days))))
    for period, count in ((str, daily), (iso_week, weekly)):
        seen: set[str] = set()
        for index, day in enumerate(days):
            when = period(day)
            if when not in seen:
                seen.add(when)
                if len(seen) <= count:
                    keep.add(index)
    return keep


def day_of(stamp: str) -> str:
    """``YYYYMMDD`` of a stored time (``2026-12-01T…``) or a file stamp (``20261201T…``)."""
    return stamp.replace("-", "")[:8]
