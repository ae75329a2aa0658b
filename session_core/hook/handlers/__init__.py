"""Hook handlers, one module per role; ``session_core.hook.registry`` says which runs when."""
