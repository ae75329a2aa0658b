"""A full check: ``integrity_check`` sees the B-trees, only decompressing sees damage in blobs."""

from __future__ import annotations

import sqlite3

from ..base.errors import CorruptBlobError
from . import frames
from .archive import Archive
from .codec import decompress


def verify_archive(archive: Archive) -> list[str]:
    """Problems found, one line each; empty means healthy. Damage SQLite itself trips over is
    a finding too, never a crash: this is the command people run when something is wrong."""
    problems: list[str] = []
    conn = archive.db.conn
    try:
        problems += [f"integrity: {line}" for (line,) in conn.execute("PRAGMA integrity_check")
                     if line != "ok"]
        refs = frames.every_frame(conn)
    except sqlite3.Error as exc:
        return [*problems, f"database: {exc}"]
    for ref in refs:
        where = f"{ref.path} generation {ref.generation} byte {ref.offset}"
        try:
            decompress(frames.frame_data(conn, ref.chunk_id), ref.raw_len)
        except CorruptBlobError as exc:
            problems.append(f"frame: {where}: {exc.message}")
        except sqlite3.Error as exc:
            problems.append(f"frame: {where}: {exc}")
    return problems
