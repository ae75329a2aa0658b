"""What hooks tell the user without stdout: a log file, and a health file the status line reads.

Hooks must never print stray text (SessionStart stdout goes into the model's context) and must
never fail loudly, so every failure lands here: one line in ``<log dir>/hooks.log`` (platformdirs,
0600, rotated at 1 MiB) and a count in ``<archive dir>/health.json``. The ``logging`` package is
not used: it costs more import time than the whole of this module's work.
"""

from __future__ import annotations

import os
import time

from . import paths
from .jsonlite import dumps
from .live import HEALTH_NAME, read_json

TYPE_CHECKING = False  # not typing's: importing typing costs a hook ~2 ms
if TYPE_CHECKING:
    from typing import Any

    from .paths import StrPath

LOG_NAME = "hooks.log"
_ROTATE_BYTES = 1024 * 1024


def log_path() -> str:
    return os.path.join(paths.log_dir(), LOG_NAME)


def _stamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime())


def log(level: str, event: str, message: str) -> None:
    """Append one line; never raises (a hook that cannot log must still exit 0)."""
    try:
        path = log_path()
        paths.ensure_private_dir(os.path.dirname(path))
        if os.path.exists(path) and os.stat(path).st_size > _ROTATE_BYTES:
            os.replace(path, path + ".1")
        flat = " ".join(message.split())[:2000]
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, f"{_stamp()} {level} pid={os.getpid()} {event}: {flat}\n".encode())
        finally:
            os.close(fd)
    except OSError:
        pass


def write_json_atomic(path: StrPath, data: dict[str, Any]) -> None:
    """Readers (the status line) never see half a file: write a temp file, then rename."""
    folder, name = os.path.split(path)
    paths.ensure_private_dir(folder)
    temp = os.path.join(folder, f".{name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, dumps(data).encode())
    finally:
        os.close(fd)
    os.replace(temp, path)


def record_health(project: StrPath, event: str, failure: str | None, proven: bool = True) -> None:
    """Count consecutive failed hook runs per project. Only a success that used the archive
    (``proven``) resets the count: a run that never opened a damaged archive proves nothing."""
    try:
        path = os.path.join(paths.archive_dir(project), HEALTH_NAME)
        health = read_json(path)
        failures, ok_at = health.get("failures"), health.get("ok_at")
        failures = failures if isinstance(failures, int) else 0
        ok_at = ok_at if isinstance(ok_at, (int, float)) else 0
        now = time.time()
        if failure is None:
            if not proven:
                return
            if failures == 0 and now - ok_at < 60:
                return  # nothing new to say; spare a write on every event
            health.update(ok_at=now, failures=0)
        else:
            health.update(failed_at=now, failures=failures + 1,
                          last_error=f"{event}: {failure}"[:300])
        write_json_atomic(path, health)
    except OSError:
        pass
