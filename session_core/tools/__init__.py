"""Developer checks that anyone can run, e.g. ``python -m session_core.tools.layers``."""
