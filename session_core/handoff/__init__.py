"""What a new session is told about the last one: chosen from the store, written as text, with
the git state of the project."""
