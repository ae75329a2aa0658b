"""What several handlers do: archive a transcript named in the payload."""

from __future__ import annotations

import os

from ...base.errors import InputError
from .. import log
from ..run import HookContext
from ..stdio import text_field

TYPE_CHECKING = False  # the name, not typing's: typing stays off the hook path
if TYPE_CHECKING:
    from ...transcript.ingest import IngestReport

FOLD_FROM_START_UP_TO = 8 * 1024 * 1024
"""A session's digest missing or behind (an archive from before digests) is folded from the
archived bytes at a hook only up to this size; past it, the next session start folds it once."""


def transcript_of(ctx: HookContext, field: str = "transcript_path") -> str | None:
    """The payload's transcript, if Claude Code has written one yet (it may lag or be gone)."""
    text = text_field(ctx.payload, field)
    if text is None:
        return None
    if not os.path.exists(text):
        # At SessionStart and a session's first prompt that is the normal case: Claude Code
        # writes the file with the first message. Still logged (the log is where a wrong path
        # shows), but not as a warning.
        log.log("INFO" if ctx.event in ("SessionStart", "UserPromptSubmit") else "WARN",
                ctx.event,
                f"{field} {text} does not exist (yet); the next event catches up")
        return None
    return text


def save_transcript(ctx: HookContext, field: str = "transcript_path") -> IngestReport | None:
    """Archive what is new in the transcript; a path that is no transcript is logged, not fatal."""
    path = transcript_of(ctx, field)
    if path is None:
        return None
    return save_file(ctx, path)


def save_file(ctx: HookContext, path: str) -> IngestReport | None:
    """Archive what is new in ``path``, its digest included, within a hook's means. The ingest
    pipeline is imported here: a session start with nothing to catch up never loads it."""
    from ...transcript.ingest import ingest_file

    try:
        report = ingest_file(ctx.archive().db, path, ctx.settings, FOLD_FROM_START_UP_TO)
    except InputError as exc:
        ctx.warn(exc.message)
        return None
    for warning in report.warnings[:5]:
        log.log("WARN", ctx.event, warning)
    return report
