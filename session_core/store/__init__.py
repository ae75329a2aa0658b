"""The archive: one SQLite file per project. Every SQL statement lives here, each table's in one
module, behind functions and row classes with named columns. Knows tables, not transcripts."""
