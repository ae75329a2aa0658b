"""pydantic models of the transcript records the core reads.

Lenient where Claude Code varies (unknown fields ignored, most fields typed ``Any`` and checked
where used), strict where a wrong type would make us store garbage: an identity (``uuid``,
``sessionId``) that is not a string makes the line unindexable rather than mis-keyed. Parsing goes
straight from bytes with ``model_validate_json``, which skips the fields we do not declare (e.g. the
large ``data`` of ``progress`` records) instead of building Python objects for them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, StrictStr


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=False, defer_build=True)


class Message(_Lenient):
    id: Any = None
    role: Any = None
    model: Any = None
    content: Any = None
    usage: Any = None


class Record(_Lenient):
    """One line of a transcript, any ``type``; only what the index needs is declared."""

    type: Any = None
    uuid: StrictStr | None = None
    sessionId: StrictStr | None = None
    timestamp: Any = None
    cwd: Any = None
    gitBranch: Any = None
    version: Any = None
    isSidechain: Any = None
    isMeta: Any = None
    isCompactSummary: Any = None
    agentId: Any = None
    subtype: Any = None
    content: Any = None
    message: Message | Any = None
    costUSD: Any = None
    totalCostUSD: Any = None
    startTime: Any = None


def parse_record(line: bytes) -> Record:
    """Parse one JSONL line; raises ``pydantic.ValidationError`` for non-JSON or non-objects."""
    return _validate_json(line)  # type: ignore[no-any-return]


Record.model_rebuild()
_validate_json = Record.__pydantic_validator__.validate_json  # skips a wrapper; hot path
