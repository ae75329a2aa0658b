"""One exception hierarchy for the core.

Every failure a user can meet is a ``SessionCoreError`` carrying what failed, what to try next and
an exit code; the CLI turns it into ``Error: ...`` / ``Try: ...`` once, and hooks log it and exit 0.
Distinct exit codes let scripts tell "the archive is from a newer version" from "no such session".
"""

from __future__ import annotations

RECOVER_HINT = ("run 'session-core recover': it moves the damaged archive aside (nothing is"
                " deleted) and rebuilds it from backups, what is still readable, and transcripts")
"""The one advice for damage, wherever it is met (reading commands, hooks, the status line)."""


class ExitCode:
    """The CLI's exit codes (README, "Commands"). Plain ints: hooks import this module, and
    ``enum`` is kept off their path (bench/README.md, the import ledger)."""

    OK = 0
    FAILURE = 1
    USAGE = 2
    NOT_FOUND = 3
    CONFLICT = 4
    NEWER_SCHEMA = 5
    BAD_DATABASE = 6
    BAD_INPUT = 7
    BAD_CONFIG = 8
    BUSY = 9
    BAD_QUERY = 10
    NOT_OURS = 11


class SessionCoreError(Exception):
    """Base of every error we raise on purpose."""

    exit_code: int = ExitCode.FAILURE

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        text = f"Error: {self.message}"
        if self.hint:
            text += f"\nTry: {self.hint}"
        return text


class UsageError(SessionCoreError):
    """Arguments that contradict each other (argparse reports the rest with the same code)."""

    exit_code = ExitCode.USAGE


class ConfigError(SessionCoreError):
    """Our settings file, or a Claude Code settings file we were asked to edit, is invalid."""

    exit_code = ExitCode.BAD_CONFIG


class QueryError(SessionCoreError):
    """A search query that is not valid FTS5 syntax: the user's words, not the archive."""

    exit_code = ExitCode.BAD_QUERY


class InputError(SessionCoreError):
    """A path we were asked to read is not a transcript (binary, directory, missing)."""

    exit_code = ExitCode.BAD_INPUT


class NotFoundError(SessionCoreError):
    exit_code = ExitCode.NOT_FOUND


class ConflictError(SessionCoreError):
    """Refusing to overwrite something that differs from what we would write."""

    exit_code = ExitCode.CONFLICT


class DatabaseError(SessionCoreError):
    """The archive file is damaged, foreign, or unreadable."""

    exit_code = ExitCode.BAD_DATABASE


class NewerSchemaError(DatabaseError):
    """The archive was written by a newer session-core; we never downgrade it."""

    exit_code = ExitCode.NEWER_SCHEMA


class BusyError(DatabaseError):
    """Another writer held the archive longer than our busy timeout."""

    exit_code = ExitCode.BUSY


class DamagedError(DatabaseError):
    """The archive's contents are damaged (not merely locked, full or foreign): the hooks set
    it aside and keep saving (``auto_recover``), commands say ``session-core recover``."""

    def __init__(self, message: str, hint: str | None = RECOVER_HINT) -> None:
        super().__init__(message, hint)


class CorruptBlobError(DamagedError):
    """A stored zstd frame failed its checksum or length check."""
