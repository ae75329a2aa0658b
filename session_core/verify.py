"""A full check: ``integrity_check`` sees the B-trees, only decompressing sees damage in blobs."""

from __future__ import annotations

import sqlite3

from .archive import Archive
from .codec import decompress
from .errors import CorruptBlobError


def verify_archive(archive: Archive) -> list[str]:
    """Problems found, one line each; empty means healthy. Damage SQLite itself trips over is
    a finding too, never a crash: this is the command people run when something is wrong."""
    problems: list[str] = []
    conn = archive.db.conn
    try:
        problems += [f"integrity: {line}" for (line,) in conn.execute("PRAGMA integrity_check")
                     if line != "ok"]
        rows = conn.execute(
            "SELECT c.id, f.path, c.generation, c.offset, c.raw_len FROM chunks c"
            " JOIN files f ON f.id = c.file_id ORDER BY c.id"
        ).fetchall()
    except sqlite3.Error as exc:
        return [*problems, f"database: {exc}"]
    for chunk_id, path, generation, offset, raw_len in rows:
        where = f"{path} generation {generation} byte {offset}"
        try:
            frame = conn.execute("SELECT data FROM chunks WHERE id = ?", (chunk_id,)).fetchone()[0]
            decompress(frame, raw_len)
        except CorruptBlobError as exc:
            problems.append(f"frame: {where}: {exc.message}")
        except sqlite3.Error as exc:
            problems.append(f"frame: {where}: {exc}")
    return problems
