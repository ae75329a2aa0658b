"""Claude Code's transcripts: where they are kept, what a record says, and the ingest pipeline
that turns a file's new bytes into frames, index rows and the session's digest in the store."""
