"""A file's new bytes as ingest reads them: pieces that become frames, the complete lines in
them, and what can be told about a line from its bytes alone (no JSON parsed).

Generators the ingest pipeline pulls from, never callbacks: control stays in ``ingest``.
"""

from __future__ import annotations

import os

from ..base.hashing import hash16

TYPE_CHECKING = False  # the name, not typing's: typing stays off the hook path
if TYPE_CHECKING:
    from collections.abc import Iterator

_PROGRESS = b'"type":"progress"'
_TYPE_KEY = b'"type":'
_INDEXED_TYPES = (b'"user"', b'"assistant"', b'"system"', b'"cost-state"', b" ")
_TIMESTAMP = b'"timestamp":"'
_TYPE_WINDOW = 1024


def line_hash(data: bytes) -> bytes:
    """16 bytes that fingerprint ``data`` (a line, or a file's first or last 4 KiB)."""
    return hash16(data)


def pieces(fd: int, start: int, end: int, frame_bytes: int,
           line_mode: bool) -> Iterator[tuple[int, bytes]]:
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


class LineSplitter:
    """Complete lines out of consecutive pieces; a line spanning pieces is joined, up to
    ``limit`` bytes (longer ones are archived but named in ``too_long``, not returned)."""

    def __init__(self, start: int, limit: int) -> None:
        self.limit = limit
        self.committed = start
        """End of the last complete line seen."""
        self.too_long: list[tuple[int, int]] = []
        """(offset, length) of lines past the limit."""
        self._partial: list[bytes] = []
        self._partial_len = 0
        self._partial_start = start

    def feed(self, offset: int, data: bytes) -> Iterator[tuple[int, bytes]]:
        """(offset, line) of each line that ``data`` completes, in order."""
        lines = data.split(b"\n")
        last = lines.pop()  # after the final newline: empty, or a line still open
        pos = offset
        for line in lines:
            if self._partial:
                start, whole = self._partial_start, self._partial_len + len(line)
                if whole <= self.limit:
                    yield start, b"".join([*self._partial, line])
                else:
                    self.too_long.append((start, whole))
                self._partial, self._partial_len = [], 0
            elif len(line) <= self.limit:
                yield pos, line
            else:
                self.too_long.append((pos, len(line)))
            pos += len(line) + 1
            self.committed = pos
        if last:
            if self._partial_len == 0:
                self._partial_start = pos
            self._partial_len += len(last)
            self._partial.append(last if self._partial_len <= self.limit else b"")


def is_plain_progress(line: bytes) -> bool:
    """A ``progress`` record that nests no message, told from the raw bytes without parsing.

    Half or more of a transcript's lines are ``progress`` records, and nothing in them is
    indexed. Claude Code writes compact JSON, so every record carries its own top-level
    ``"type":"X"``: a line with the progress marker and none of the markers of a type we index
    cannot be a record we index (escaped quotes inside strings never match). Lines that do not
    end like a JSON object are left to the parser, which reports them.
    """
    # The top-level type comes in the first few hundred bytes; looking only there keeps the
    # check cheap on long message lines and can only make us parse more, never skip more.
    return (line.find(_PROGRESS, 0, _TYPE_WINDOW) >= 0 and line.endswith((b"}", b"}\r"))
            and not names_an_indexed_type(line))


def names_an_indexed_type(line: bytes) -> bool:
    """Any ``"type":`` followed by a type we index, or by a space (not compact JSON: parse).
    A ``find`` loop, not a regex: progress lines hold few ``"type":``."""
    at = line.find(_TYPE_KEY)
    while at >= 0:
        at += len(_TYPE_KEY)
        if line.startswith(_INDEXED_TYPES, at):
            return True
        at = line.find(_TYPE_KEY, at)
    return False


def progress_timestamp(line: bytes) -> str | None:
    """The record's own timestamp: Claude Code writes it as the last key."""
    start = line.rfind(_TIMESTAMP)
    if start < 0:
        return None
    start += len(_TIMESTAMP)
    end = line.find(b'"', start)
    value = line[start:end]
    if 19 <= len(value) <= 40 and value[:1].isdigit() and value.isascii():
        return value.decode("ascii")
    return None
