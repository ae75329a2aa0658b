"""A full check: ``integrity_check`` sees the B-trees, only decompressing sees damage in blobs."""

from __future__ import annotations

from .archive import Archive
from .codec import decompress
from .errors import CorruptBlobError


def verify_archive(archive: Archive) -> list[str]:
    """Problems found, one line each; empty means healthy."""
    problems: list[str] = []
    conn = archive.db.conn
    for (line,) in conn.execute("PRAGMA integrity_check"):
        if line != "ok":
            problems.append(f"integrity: {line}")
    rows = conn.execute(
        "SELECT c.id, f.path, c.generation, c.offset, c.raw_len FROM chunks c"
        " JOIN files f ON f.id = c.file_id ORDER BY c.id"
    ).fetchall()
    for chunk_id, path, generation, offset, raw_len in rows:
        frame = conn.execute("SELECT data FROM chunks WHERE id = ?", (chunk_id,)).fetchone()[0]
        try:
            decompress(frame, raw_len)
        except CorruptBlobError as exc:
            problems.append(f"frame: {path} generation {generation} byte {offset}: {exc.message}")
    return problems
