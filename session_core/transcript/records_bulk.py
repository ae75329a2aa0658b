"""The pydantic parser of transcript records, for bulk imports only.

``validate_json`` skips the fields we do not declare (the large ``data`` of ``progress`` lines,
tool results, prompt snapshots) instead of building Python objects for them: measured 10-15 %
faster ingest than ``json.loads`` on the benchmark corpora (bench/README.md). Importing pydantic
costs several times a hook's whole budget, so hooks keep the standard-library parser of
:mod:`.records`; an import of megabytes pays this once. Both give the same attributes
(tests/test_parsing.py compares them over the whole corpus).
"""

from __future__ import annotations

from typing import Any, cast

from pydantic import BaseModel, ConfigDict, StrictStr, ValidationError

from .records import BOM, Record, RecordError, register_classes


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)


class _Message(_Lenient):
    id: Any = None
    role: Any = None
    model: Any = None
    content: Any = None
    usage: Any = None


class _ToolUseResult(_Lenient):
    """Only the two fields the digest reads: the rest of a tool's result (file contents,
    patches) is skipped by the validator instead of built into Python objects."""

    task: Any = None
    tasks: Any = None


class _Record(_Lenient):
    """Same attributes as :class:`.records.Record`."""

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
    message: _Message | Any = None
    costUSD: Any = None
    totalCostUSD: Any = None
    startTime: Any = None
    level: Any = None
    operation: Any = None
    toolUseResult: _ToolUseResult | Any = None


register_classes(_Message, _ToolUseResult)
_Record.model_rebuild()
_validate_json = _Record.__pydantic_validator__.validate_json  # skips a wrapper; hot path


def parse_record_bulk(line: bytes) -> Record:
    """Drop-in for :func:`.records.parse_record`."""
    try:
        return cast(Record, _validate_json(line[3:] if line[:3] == BOM else line))
    except ValidationError as exc:
        raise RecordError(str(exc.errors()[0].get("msg", "invalid"))) from None
