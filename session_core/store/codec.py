"""zstd frames with content checksums: SQLite's integrity_check cannot see damage inside a blob.

Every frame records its content size and a checksum, so a flipped bit is an error, never silently
wrong history.
"""

from __future__ import annotations

import os
import sys
from _thread import get_ident

from ..base.errors import RECOVER_HINT, CorruptBlobError

TYPE_CHECKING = False  # the name, not typing's: avoiding that import is the point of _load_zstd
if TYPE_CHECKING:
    from types import ModuleType

    import zstandard


def _load_zstd() -> ModuleType:
    """zstandard's C backend, without running the package's ``__init__`` when we can.

    That ``__init__`` imports ``typing`` and ``platform`` only to pick a backend, on every hook
    (its price is in bench/README.md, the import ledger). On CPython with the default import
    policy it always picks ``backend_c``, so we load that module under its real name beneath a
    stand-in parent package, keep our reference, and take both out of ``sys.modules`` again:
    a later ``import zstandard`` (tests, a user's script in the same process) then runs the real
    ``__init__`` and binds its own ``zstandard.backend_c``, whose classes are the same objects
    (the extension keeps them per process). The zstandard versions this relies on are pinned
    in pyproject.toml and checked by tests/test_codec.py; anything unexpected falls back to the
    plain import.
    """
    default_policy = os.environ.get("PYTHON_ZSTANDARD_IMPORT_POLICY", "default").strip()
    folder = _package_folder("zstandard")
    if ("zstandard" in sys.modules or sys.implementation.name != "cpython"
            or default_policy != "default" or folder is None):
        import zstandard

        return zstandard
    stand_in = type(sys)("zstandard")
    stand_in.__path__ = [folder]
    sys.modules["zstandard"] = stand_in
    backend: ModuleType | None = None
    try:
        __import__("zstandard.backend_c")
        backend = sys.modules["zstandard.backend_c"]
    except Exception:  # a layout we do not know: the package's own way, below
        pass
    finally:
        if sys.modules.get("zstandard") is stand_in:
            del sys.modules["zstandard"]
        sys.modules.pop("zstandard.backend_c", None)
    if backend is None:
        import zstandard

        return zstandard
    return backend


def _package_folder(name: str) -> str | None:
    for entry in sys.path:
        folder = os.path.join(entry or os.curdir, name)
        if os.path.isfile(os.path.join(folder, "__init__.py")):
            return folder
    return None


_zstd = _load_zstd()

_COMPRESSORS: dict[tuple[int, int], zstandard.ZstdCompressor] = {}
"""One compressor per (thread, level): a ZstdCompressor must not be shared between threads.
Keyed by ``_thread.get_ident``: ``threading`` is kept off the hook path."""


def _compressor(level: int) -> zstandard.ZstdCompressor:
    key = (get_ident(), level)
    compressor = _COMPRESSORS.get(key)
    if compressor is None:
        compressor = _COMPRESSORS[key] = _zstd.ZstdCompressor(
            level=level, write_checksum=True, write_content_size=True
        )
    return compressor


def compress(data: bytes, level: int) -> bytes:
    frame: bytes = _compressor(level).compress(data)
    return frame


def decompress(frame: bytes, expected_len: int) -> bytes:
    """Decompress one frame and insist on its recorded length and on its checksum; any
    mismatch is corruption. Every frame is written with a checksum: one whose header says it
    has none was damaged there (and then zstd would accept a damaged body too)."""
    try:
        if not _zstd.get_frame_parameters(frame).has_checksum:
            raise CorruptBlobError("the archive is damaged: a stored frame has lost its"
                                   " checksum", RECOVER_HINT)
        decompressor = _zstd.ZstdDecompressor()
        out: bytes = decompressor.decompress(frame, max_output_size=max(expected_len, 1))
    except _zstd.ZstdError as exc:
        raise CorruptBlobError(
            f"the archive is damaged: a stored frame failed to decompress ({exc})", RECOVER_HINT,
        ) from exc
    if len(out) != expected_len:
        raise CorruptBlobError(
            f"the archive is damaged: a stored frame holds {len(out)} bytes, expected"
            f" {expected_len}", RECOVER_HINT,
        )
    return out


def decompress_sized(frame: bytes) -> bytes:
    """Decompress a frame that records its own size (``compress`` writes it), for blobs
    stored without a length column; a frame that does not say its size is corruption."""
    try:
        size = _zstd.frame_content_size(frame)
    except _zstd.ZstdError as exc:
        raise CorruptBlobError(f"the archive is damaged: a stored blob is not a frame ({exc})",
                               RECOVER_HINT) from exc
    if size < 0:
        raise CorruptBlobError("the archive is damaged: a stored blob does not say its size",
                               RECOVER_HINT)
    return decompress(frame, size)
