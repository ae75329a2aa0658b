"""The README's tables and ARCHITECTURE.md's map say what the code does: a setting, an exit code,
a command or a module added to one and not the other fails here."""

from __future__ import annotations

import argparse
import re

from session_core.base.errors import ExitCode
from session_core.base.settings import SPEC
from session_core.cli.main import build_parser

from .conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
ARCHITECTURE = (REPO / "ARCHITECTURE.md").read_text(encoding="utf-8")


def table_after(heading: str, text: str = README) -> list[list[str]]:
    """The cells of the first table after ``heading`` (header and rule rows left out)."""
    rest = text[text.index(heading):]
    rows = []
    for line in rest.splitlines():
        if line.startswith("|"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
        elif rows:
            break
    return rows[2:]


def test_the_settings_table_is_the_settings() -> None:
    documented = {row[0].strip("`"): row[1] for row in table_after("## Settings")}
    assert set(documented) == set(SPEC)
    for name, (_, default, _) in SPEC.items():
        shown = "unset" if default is None else ("true" if default else "false") \
            if isinstance(default, bool) else str(default)  # as the JSON file spells it
        assert documented[name] == shown, name


def test_the_exit_code_table_is_the_exit_codes() -> None:
    documented = {int(row[0]) for row in table_after("| exit | meaning |")}
    codes = {value for name, value in vars(ExitCode).items() if name.isupper()}
    assert documented == codes


def test_the_command_table_is_the_commands() -> None:
    documented = {re.match(r"`session-core (\w+)", row[0]).group(1)  # type: ignore[union-attr]
                  for row in table_after("## Commands")}
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert documented == set(sub.choices)


def test_the_architecture_map_names_every_module_in_its_layer() -> None:
    rows = {row[0].strip("`"): row[1] for row in table_after("| layer |", ARCHITECTURE)}
    package = REPO / "session_core"
    for layer, cell in rows.items():
        folder = package / layer
        named = set(re.findall(r"`(\w+)`", cell))
        modules = {p.stem for p in folder.rglob("*.py") if p.stem != "__init__"}
        assert modules <= named, (layer, sorted(modules - named))
        assert named - {"handlers", "setup"} <= modules, (layer, sorted(named - modules))
    layers = {p.name for p in package.iterdir() if (p / "__init__.py").is_file()}
    assert layers - {"tools"} == set(rows)
