"""Reading a file's new bytes into what the archive stores: frames, and batches to index.

No database here: what it finds goes to callbacks, in file order, as it is read, so memory
stays bounded on any file. Keeping the reading apart from the writing is what lets the parsing
be tested, and measured, on its own.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

from . import codec
from .indexer import Batch, Indexer
from .models import Record, parse_record

TYPE_CHECKING = False  # not typing's: its import costs a hook ~2 ms
if TYPE_CHECKING:  # imported when first needed: a hook's small append never uses the pool
    from concurrent.futures import ThreadPoolExecutor

Frame = tuple[int, int, bytes]  # (offset, raw length, zstd frame)
THREADED_COMPRESSION = 256 << 10  # below this, handing off to a thread costs more than it saves
_POOL: ThreadPoolExecutor | None = None


def _compression_thread() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        from concurrent.futures import ThreadPoolExecutor

        _POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="session-core-zstd")
    return _POOL


def _forget_thread_after_fork() -> None:
    """A forked child (a user's multiprocessing) inherits the pool object but not its thread:
    submitting to it would wait forever, so start afresh."""
    global _POOL
    _POOL = None


os.register_at_fork(after_in_child=_forget_thread_after_fork)


class ScanResult:
    __slots__ = ("bad_lines", "committed", "first_session", "new_bytes", "warnings")

    def __init__(self, committed: int) -> None:
        self.committed = committed  # end of the last complete line (of the data, for opaque files)
        self.new_bytes = 0
        self.bad_lines: list[tuple[int, str]] = []
        self.warnings: list[str] = []
        self.first_session: tuple[str, bool] | None = None  # the first sessionId a record named


def _pieces(fd: int, start: int, end: int, frame_bytes: int, line_mode: bool) -> Iterator[
    tuple[int, bytes]
]:
    """Split [start, end) into frames of at most ``frame_bytes``, cut after a newline if possible.

    A frame never straddles the last newline, so the partial tail after it sits in frames of its
    own, which the next ingest replaces.
    """
    pos = start
    offset = start
    carry = b""
    while pos < end:
        data = os.pread(fd, min(frame_bytes - len(carry), end - pos), pos)
        if not data:  # the file shrank while we read it; the rest waits for the next call
            break
        pos += len(data)
        buf = carry + data if carry else data
        cut = buf.rfind(b"\n") + 1 if line_mode else len(buf)
        if pos >= end or cut == 0:
            if pos >= end and 0 < cut < len(buf):
                yield offset, buf[:cut]
                offset += cut
                buf = buf[cut:]
            yield offset, buf
            offset += len(buf)
            carry = b""
        else:
            yield offset, buf[:cut]
            offset += cut
            carry = buf[cut:]
    if carry:
        yield offset, carry


class _LineSplitter:
    """Feeds complete lines to the indexer; lines spanning frames are joined up to a limit."""

    def __init__(self, indexer: Indexer, start: int, limit: int, result: ScanResult) -> None:
        self.indexer, self.limit, self.result = indexer, limit, result
        self.partial: list[bytes] = []
        self.partial_len = 0
        self.partial_start = start

    def feed(self, offset: int, data: bytes) -> None:
        lines = data.split(b"\n")
        last = lines.pop()  # after the final newline: empty, or a line still open
        pos = offset
        for line in lines:
            if self.partial:
                self._close_partial(line)
            elif len(line) <= self.limit:
                self.indexer.line(pos, line)
            else:
                self._too_long(pos, len(line))
            pos += len(line) + 1
            self.result.committed = pos
        if last:
            if self.partial_len == 0:
                self.partial_start = pos
            self.partial_len += len(last)
            self.partial.append(last if self.partial_len <= self.limit else b"")

    def _close_partial(self, end: bytes) -> None:
        start, whole = self.partial_start, self.partial_len + len(end)
        if whole <= self.limit:
            self.indexer.line(start, b"".join([*self.partial, end]))
        else:
            self._too_long(start, whole)
        self.partial, self.partial_len = [], 0

    def _too_long(self, start: int, length: int) -> None:
        self.result.warnings.append(f"a {length}-byte line at byte {start} is archived"
                                    " verbatim but too long to index")


def scan(fd: int, start: int, size: int, *, line_mode: bool, default_session: str,
         frame_bytes: int, level: int, tool_text_chars: int, max_line_bytes: int,
         on_frame: Callable[[Frame], None], on_batch: Callable[[Batch], None],
         parse: Callable[[bytes], Record] = parse_record) -> ScanResult:
    """Compress [start, size) into frames and index its complete lines, in file order."""
    result = ScanResult(committed=start)
    splitter = None
    if line_mode:
        indexer = Indexer(default_session, tool_text_chars, on_batch, parse)
        splitter = _LineSplitter(indexer, start, max_line_bytes, result)
    pool = _compression_thread() if size - start >= THREADED_COMPRESSION else None
    for offset, data in _pieces(fd, start, size, frame_bytes, line_mode):
        # zstd releases the GIL: a large frame compresses while its lines are parsed.
        frame = pool.submit(codec.compress, data, level) if pool else None
        result.new_bytes += len(data)
        if splitter is None:
            result.committed = offset + len(data)
        else:
            splitter.feed(offset, data)
        on_frame((offset, len(data), frame.result() if frame else codec.compress(data, level)))
    if splitter is not None:
        splitter.indexer.flush()
        result.bad_lines = splitter.indexer.bad_lines
        result.first_session = splitter.indexer.first_session
    return result
