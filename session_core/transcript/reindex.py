"""The index's words derived again from the archived bytes.

The words of ``entries_fts`` are derived data, kept only as an index (the table is contentless:
no text is stored beside the frames). When the extraction changes (``extract.EXTRACT_VERSION``,
or the ``tool_text_chars`` setting) every entry's words are derived again, in one transaction,
so one index never mixes two extractions; and a session's words can be deleted exactly, which a
contentless index requires (``forget``).
"""

from __future__ import annotations

from itertools import groupby

from ..base.errors import DamagedError
from ..store import entries, files, frames, meta
from .extract import extract
from .index import index_version
from .records import RecordError, parse_record

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterable, Iterator

    from ..base.settings import Settings
    from ..store.connection import Database

WORDS_BATCH = 2000


def text_of(line: bytes, tool_text_chars: int) -> str:
    """What the index holds of one archived line (as ingest extracted it)."""
    try:
        extracted = extract(parse_record(line), tool_text_chars)
    except RecordError:
        return ""
    return extracted.text if extracted is not None else ""


def words_of(conn: sqlite3.Connection, positions: Iterable[entries.Position],
             tool_text_chars: int) -> Iterator[tuple[int, str]]:
    """``(entry id, text)`` of each position that has words: each file generation's frames are
    read once, front to back (``positions`` come in file and byte order)."""
    for (file_id, generation), group in groupby(positions, lambda p: (p.file_id, p.generation)):
        record = files.by_id(conn, file_id)
        if record is None:
            continue
        record.generation = generation  # a rewritten file's older entries live in older frames
        wanted = list(group)
        at, pending = wanted[0].offset, iter(wanted)
        nxt = next(pending, None)
        for line in frames.read_lines(conn, record, at, max(p.offset + p.length for p in wanted)):
            while nxt is not None and nxt.offset < at:  # not at a line start: never indexed so
                nxt = next(pending, None)
            if nxt is not None and nxt.offset == at:
                if len(line) != nxt.length:
                    raise DamagedError(f"the archive is damaged: an entry of {record.path} at"
                                       f" byte {at} does not end where its line ends",
                                       "session-core verify")
                text = text_of(line, tool_text_chars)
                if text:
                    yield nxt.entry_id, text
                nxt = next(pending, None)
            at += len(line) + 1


def _batches(rows: Iterator[tuple[int, str]]) -> Iterator[list[tuple[int, str]]]:
    batch: list[tuple[int, str]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= WORDS_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def reindex_due(conn: sqlite3.Connection, settings: Settings) -> bool:
    """The index was built another way than this code and these settings build it. An archive
    without a recorded version and without entries simply takes the current one."""
    current = index_version(settings.tool_text_chars)
    recorded = meta.get(conn, meta.INDEX_VERSION)
    return recorded != current and (recorded is not None or entries.any_entry(conn))


def reindex(db: Database, settings: Settings) -> int:
    """Derive every entry's words again and record the version; returns the entries indexed.
    One transaction: cut short, the old index stays whole and the next command starts over."""
    with db.write() as conn:
        return reindex_in(conn, settings)


def reindex_in(conn: sqlite3.Connection, settings: Settings) -> int:
    """:func:`reindex` inside the caller's transaction. Dropping every segment and writing
    the words again also leaves no deleted word in the file (``forget``)."""
    done = 0
    entries.clear_words(conn)
    # positions are read whole first: the cursor must not run while the index is written
    for batch in _batches(words_of(conn, list(entries.positions(conn)),
                                   settings.tool_text_chars)):
        entries.add_words(conn, batch)
        done += len(batch)
    meta.put(conn, meta.INDEX_VERSION, index_version(settings.tool_text_chars))
    return done

