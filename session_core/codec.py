"""zstd frames with content checksums: SQLite's integrity_check cannot see damage inside a blob.

Every frame records its content size and a checksum, so a flipped bit is an error, never silently
wrong history.
"""

from __future__ import annotations

from _thread import get_ident

import zstandard

from .errors import CorruptBlobError

_COMPRESSORS: dict[tuple[int, int], zstandard.ZstdCompressor] = {}
"""One compressor per (thread, level): a ZstdCompressor must not be shared between threads.
Keyed by ``_thread.get_ident`` because importing ``threading`` costs a hook ~2 ms."""


def _compressor(level: int) -> zstandard.ZstdCompressor:
    key = (get_ident(), level)
    compressor = _COMPRESSORS.get(key)
    if compressor is None:
        compressor = _COMPRESSORS[key] = zstandard.ZstdCompressor(
            level=level, write_checksum=True, write_content_size=True
        )
    return compressor


def compress(data: bytes, level: int) -> bytes:
    return _compressor(level).compress(data)


def decompress(frame: bytes, expected_len: int) -> bytes:
    """Decompress one frame and insist on its recorded length; any mismatch is corruption."""
    try:
        out = zstandard.ZstdDecompressor().decompress(frame, max_output_size=max(expected_len, 1))
    except zstandard.ZstdError as exc:
        raise CorruptBlobError(
            f"a stored frame failed to decompress ({exc})",
            "run 'session-core verify' to list damaged sessions; restore them from a backup",
        ) from exc
    if len(out) != expected_len:
        raise CorruptBlobError(
            f"a stored frame holds {len(out)} bytes, expected {expected_len}",
            "run 'session-core verify' to list damaged sessions",
        )
    return out
