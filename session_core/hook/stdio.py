"""Hook stdin and stdout: a bounded read that never hangs, and only the JSON we mean on stdout.

Claude Code has left stdin open (``/clear`` in some builds), and a payload is normally a few KiB,
so the read stops at a size bound, at a deadline, or as soon as a complete JSON object arrived.
"""

from __future__ import annotations

import os
import sys
import time

from ..base.jsonlite import dumps, loads

TYPE_CHECKING = False  # the name, not typing's: the status line imports this module
if TYPE_CHECKING:
    from typing import Any

MAX_PAYLOAD_BYTES = 4 * 1024 * 1024
"""Stop carries ``last_assistant_message``; a few MiB is generous, 20 MB is not a payload."""


class PayloadError(ValueError):
    """Stdin was empty, not a JSON object, too large, or did not arrive in time."""


def _looks_complete(buffer: bytes) -> bool:
    if not buffer.rstrip().endswith(b"}"):
        return False
    try:
        loads(buffer)
    except (ValueError, RecursionError):
        return False
    return True


def _read_at_once(fd: int, buffer: bytearray, limit: int) -> bool:
    """What a pipe or file already holds, without waiting; True when that is all of it.

    Claude Code writes the payload and closes the pipe before the interpreter is even up, so
    this usually reads everything and ``select`` (an extension module: ~0.1 ms of every status
    refresh) is never imported. Never on a terminal: non-blocking mode would be the shell's."""
    import stat

    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    if not (stat.S_ISFIFO(mode) or stat.S_ISREG(mode)):
        return False
    was_blocking = os.get_blocking(fd)
    os.set_blocking(fd, False)
    try:
        while len(buffer) <= limit:
            chunk = os.read(fd, 65536)
            if not chunk:
                return True
            buffer += chunk
        return True
    except BlockingIOError:  # the writer has not written (or closed) yet: wait for it
        return False
    finally:
        os.set_blocking(fd, was_blocking)


def _read_posix(fd: int, limit: int, deadline: float) -> bytes:
    buffer = bytearray()
    if _read_at_once(fd, buffer, limit):
        return bytes(buffer)
    import select

    while len(buffer) <= limit:
        wait = deadline - time.monotonic()
        if wait <= 0:
            if _looks_complete(bytes(buffer)):
                break
            raise PayloadError(f"stdin still open after the deadline ({len(buffer)} bytes read)")
        ready, _, _ = select.select([fd], [], [], min(wait, 0.05) if buffer else wait)
        if not ready:
            if buffer and _looks_complete(bytes(buffer)):
                break  # the object is whole; stdin was just never closed
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        buffer += chunk
    return bytes(buffer)


def _read_threaded(fd: int, limit: int, deadline: float) -> bytes:
    """Windows pipes cannot be polled: read on a thread and stop waiting at the deadline."""
    import threading

    chunks: list[bytes] = []

    def pump() -> None:
        total = 0
        while total <= limit:
            chunk = os.read(fd, 65536)
            if not chunk:
                return
            chunks.append(chunk)
            total += len(chunk)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    reader.join(max(0.0, deadline - time.monotonic()))
    return b"".join(chunks)


def read_stdin(limit: int = MAX_PAYLOAD_BYTES, timeout: float = 3.0) -> bytes:
    """Up to ``limit`` bytes of stdin; raises :class:`PayloadError` past the limit or deadline."""
    deadline = time.monotonic() + timeout
    try:
        fd = sys.stdin.fileno()
    except (AttributeError, OSError, ValueError):
        return b""
    data = (_read_threaded if os.name == "nt" else _read_posix)(fd, limit, deadline)
    if len(data) > limit:
        raise PayloadError(f"stdin holds more than {limit} bytes; not a hook payload")
    return data


def parse_payload(raw: bytes) -> dict[str, Any]:
    """The payload object; unknown fields are kept (and ignored by whoever does not need them)."""
    if not raw.strip():
        raise PayloadError("stdin was empty")
    try:
        data = loads(raw)
    except (ValueError, RecursionError) as exc:
        from ..base.text import clip  # only for a bad payload

        raise PayloadError(f"stdin is not JSON: {clip(str(exc), 200)}") from None
    if not isinstance(data, dict):
        raise PayloadError(f"stdin is JSON {type(data).__name__}, not an object")
    return data


def text_field(payload: dict[str, Any], name: str) -> str | None:
    """A string field, or None when it is missing or of the wrong type (tolerated, not trusted)."""
    value = payload.get(name)
    return value if isinstance(value, str) and value else None


def emit_context(event: str, context: str) -> None:
    """The one thing a hook may print: ``hookSpecificOutput.additionalContext`` for ``event``."""
    output = {"hookSpecificOutput": {"hookEventName": event, "additionalContext": context}}
    sys.stdout.write(dumps(output, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def project_dir(payload: dict[str, Any] | None = None) -> str:
    """``CLAUDE_PROJECT_DIR`` (fixed for the session) first, then the payload's ``cwd``."""
    candidates = [os.environ.get("CLAUDE_PROJECT_DIR")]
    if payload is not None:
        candidates.append(text_field(payload, "cwd"))
    for candidate in candidates:
        if candidate and os.path.isabs(candidate) and os.path.isdir(candidate):
            return os.path.normpath(candidate)  # as Path() would: no trailing slash
    return os.getcwd()


_TEXT_FIELDS = ("session_id", "transcript_path", "agent_transcript_path", "cwd", "source",
                "reason", "prompt", "last_assistant_message", "compact_summary")


def warn_wrong_types(event: str, payload: dict[str, Any]) -> None:
    """``text_field`` ignores a field of the wrong type; say so, or nothing is saved unexplained."""
    wrong = [f"{name} is {type(payload[name]).__name__}" for name in _TEXT_FIELDS
             if payload.get(name) is not None and not isinstance(payload[name], str)]
    if wrong:
        _log("WARN", event, "payload fields ignored, not a string: " + ", ".join(wrong))


def _log(level: str, event: str, message: str) -> None:
    from . import log  # only when there is something to say

    log.log(level, event, message)
