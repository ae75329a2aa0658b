"""Foundations every layer uses: errors, settings, where our files live, JSON, atomic writes,
clipping and timestamps. Nothing here knows SQLite, transcripts or hooks."""
