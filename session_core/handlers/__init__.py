"""Hook handlers, one module per role; ``session_core.registry`` says which runs when."""
