"""SQLite's C module under the name the code uses, ``sqlite3``, without the package around it.

``import sqlite3`` runs ``sqlite3.dbapi2``, which imports ``datetime``, ``math`` and
``collections.abc`` only to register adapters for dates, and every hook process pays ~1.3 ms for
it (bench/README.md, the import ledger). The archive stores text, numbers and blobs and never
hands SQLite a date, so the C module ``_sqlite3``, whose ``connect``, ``Connection`` and
exceptions are the very objects ``sqlite3`` re-exports, is all it needs. Code outside the hook
path that imports ``sqlite3`` as well (tests, the CLI's libraries) gets the same classes.
"""

try:
    import _sqlite3 as sqlite3
except ImportError:  # pragma: no cover - an interpreter without the C module's own name
    import sqlite3  # type: ignore[no-redef]

__all__ = ["sqlite3"]
