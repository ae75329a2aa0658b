"""The one content hash we keep: BLAKE2b, 16 bytes (lines, fingerprints, frames, files).

``_blake2`` directly: ``hashlib.blake2b`` is this object, and importing ``hashlib`` also loads
OpenSSL (bench/README.md, the import ledger).
"""

from __future__ import annotations

try:
    from _blake2 import blake2b
except ImportError:  # not CPython
    from hashlib import blake2b

__all__ = ["blake2b", "hash16", "hash16_of"]


def hash16(data: bytes) -> bytes:
    return blake2b(data, digest_size=16).digest()


def hash16_of(parts: list[bytes]) -> bytes:
    """One hash of several (a file's frame hashes in order), without joining them first."""
    digest = blake2b(digest_size=16)
    for part in parts:
        digest.update(part)
    return digest.digest()
