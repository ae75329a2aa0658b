"""What hooks tell the user without stdout: a log file, and a health file the status line reads.

Hooks must never print stray text (SessionStart stdout goes into the model's context) and must
never fail loudly, so every failure lands here: one line in ``<log dir>/hooks.log`` (0600,
rotated at 1 MiB) and a count in ``<archive dir>/health.json``. The ``logging`` package is not
used: importing it costs more than this module's whole work (bench/README.md, the ledger).
"""

from __future__ import annotations

import os
import time

from ..base import locations
from ..base.clock import utc_stamp
from ..base.fs import ensure_private_dir, read_json_object, write_atomic
from ..base.jsonlite import dumps
from ..base.text import clip
from .live import RECOVER_PENDING, failed_marker, health_file

TYPE_CHECKING = False  # the name, not typing's: typing stays off the hook path
if TYPE_CHECKING:
    from ..base.fs import StrPath

LOG_NAME = "hooks.log"
_ROTATE_BYTES = 1024 * 1024
_LINE_CHARS = 2000
_ERROR_CHARS = 300


def log_path() -> str:
    return os.path.join(locations.log_dir(), LOG_NAME)


def log(level: str, event: str, message: str) -> None:
    """Append one line; never raises (a hook that cannot log must still exit 0)."""
    try:
        path = log_path()
        ensure_private_dir(os.path.dirname(path))
        if os.path.exists(path) and os.stat(path).st_size > _ROTATE_BYTES:
            os.replace(path, path + ".1")
        flat = clip(message, _LINE_CHARS, flatten=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, f"{utc_stamp()} {level} pid={os.getpid()} {event}: {flat}\n".encode())
        finally:
            os.close(fd)
    except OSError:
        pass


def read_health(project: StrPath) -> dict[str, object]:
    return read_json_object(health_file(locations.archive_dir(project)))


def mark_recover_pending(project: StrPath, folder: str, reason: str,
                         restored: str | None) -> None:
    """Say, until ``session-core recover`` ran, that an archive was set aside."""
    try:
        where = locations.archive_dir(project)
        health = read_json_object(health_file(where))
        health[RECOVER_PENDING] = {"at": time.time(), "quarantine": folder,
                                   "reason": clip(reason, _ERROR_CHARS), "restored": restored}
        ensure_private_dir(where)
        write_atomic(health_file(where), dumps(health).encode())
    except OSError:
        pass


def clear_recover_pending(project: StrPath) -> None:
    where = locations.archive_dir(project)
    health = read_json_object(health_file(where))
    if health.pop(RECOVER_PENDING, None) is not None:
        write_atomic(health_file(where), dumps(health).encode())


def record_health(project: StrPath, event: str, failure: str | None, proven: bool = True) -> None:
    """Count consecutive failed hook runs per project. Only a success that used the archive
    (``proven``) resets the count: a run that never opened a damaged archive proves nothing."""
    try:
        folder = locations.archive_dir(project)
        health = read_json_object(health_file(folder))
        failures, ok_at = health.get("failures"), health.get("ok_at")
        failures = failures if isinstance(failures, int) else 0
        ok_at = ok_at if isinstance(ok_at, (int, float)) else 0
        now = time.time()
        if failure is None:
            if not proven:
                return
            _remove_marker(folder)
            if failures == 0 and now - ok_at < 60:
                return  # nothing new to say; spare a write on every event
            health.update(ok_at=now, failures=0)
        else:
            health.update(failed_at=now, failures=failures + 1,
                          last_error=clip(f"{event}: {failure}", _ERROR_CHARS))
        ensure_private_dir(folder)
        write_atomic(health_file(folder), dumps(health).encode())
    except OSError:
        if failure is not None:
            _leave_marker(folder)


def _leave_marker(folder: str) -> None:
    """A full disk: even ``health.json`` cannot be written. An empty file needs no data
    block, only a directory entry, which usually still fits: the status line sees it."""
    try:  # noqa: SIM105 - contextlib is kept off the hook path
        os.close(os.open(failed_marker(folder), os.O_CREAT | os.O_WRONLY, 0o600))
    except OSError:
        pass


def _remove_marker(folder: str) -> None:
    try:  # noqa: SIM105 - contextlib is kept off the hook path
        os.unlink(failed_marker(folder))
    except OSError:
        pass
