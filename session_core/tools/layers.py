"""The layers of ``session_core`` and the imports between them: ``python -m
session_core.tools.layers`` prints the graph and exits 1 if any module imports upward.

Data flows down the layers; a lower layer never imports (and so never calls back into) a higher
one. Every import counts, also those inside functions and under ``TYPE_CHECKING``: a lazy import
is still a dependency. ``cli.setup`` is held to more: it may import only ``base``, because
``install.py`` runs it with the system Python before the package's dependencies exist.
ARCHITECTURE.md explains each layer.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

LAYERS = ("base", "store", "transcript", "handoff", "hook", "cli", "tools")
"""Bottom first: a module may import its own layer and the ones before it."""
ONLY = {"cli.setup": frozenset({"base", "cli.setup"})}
"""Parts held to a narrower set than their layer allows."""
PACKAGE = "session_core"


@dataclass(frozen=True)
class Import:
    source: str
    """The importing module, dotted, without the package name."""
    target: str
    line: int


def module_name(root: Path, path: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(root: Path, path: Path) -> list[Import]:
    """Every import of a module of ours, resolved to a dotted name inside the package."""
    source = module_name(root, path)
    package = source.split(".") if path.name == "__init__.py" else source.split(".")[:-1]
    package = [part for part in package if part]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [_inside(alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level:
            base = package[:len(package) - node.level + 1]
            if node.module:
                targets = [".".join([*base, node.module])]
            else:  # from . import a, b: each a module of ``base`` (or a name in it)
                targets = [".".join([*base, alias.name]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            targets = [_inside(node.module)]
        found += [Import(source, target, node.lineno) for target in targets if target != "-"]
    return found


def _inside(name: str) -> str:
    """``session_core.store.files`` -> ``store.files``; anything not ours -> ``-``."""
    if name == PACKAGE:
        return ""
    return name[len(PACKAGE) + 1:] if name.startswith(PACKAGE + ".") else "-"


def layer_of(module: str) -> str:
    """``store.files`` -> ``store``; the package's own ``__init__`` (its version string) is at
    the bottom, its ``__main__`` (``python -m session_core``) is the CLI."""
    head = module.split(".")[0]
    if head in LAYERS:
        return head
    return "cli" if head == "__main__" else LAYERS[0]


def part_of(module: str) -> str:
    for part in ONLY:
        if module == part or module.startswith(part + "."):
            return part
    return layer_of(module)


def allowed(source: str, target: str) -> bool:
    part = part_of(source)
    if part in ONLY:
        return part_of(target) in ONLY[part] or layer_of(target) in ONLY[part]
    return LAYERS.index(layer_of(target)) <= LAYERS.index(layer_of(source))


def check(root: Path) -> tuple[Counter[tuple[str, str]], list[tuple[Path, Import]]]:
    """(imports between parts, counted) and the imports that go where they may not."""
    graph: Counter[tuple[str, str]] = Counter()
    wrong = []
    for path in sorted(root.rglob("*.py")):
        for found in imports_of(root, path):
            graph[(part_of(found.source), part_of(found.target))] += 1
            if not allowed(found.source, found.target):
                wrong.append((path, found))
    return graph, wrong


def render(graph: Counter[tuple[str, str]]) -> str:
    parts = [*LAYERS[:LAYERS.index("cli") + 1], *ONLY, *LAYERS[LAYERS.index("cli") + 1:]]
    lines = ["imports between layers (row imports column; bottom layer first):",
             f"{'':>12}" + "".join(f"{p:>12}" for p in parts)]
    for row in parts:
        cells = "".join(f"{graph.get((row, col), 0) or '.':>12}" for col in parts)
        lines.append(f"{row:>12}{cells}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m session_core.tools.layers",
                                     description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1],
                        help="the package folder to check (default: this session_core)")
    args = parser.parse_args(argv)
    graph, wrong = check(args.root)
    print(render(graph))
    for path, found in wrong:
        print(f"upward import: {path}:{found.line}: {found.source} ({part_of(found.source)})"
              f" imports {found.target} ({part_of(found.target)})", file=sys.stderr)
    if wrong:
        print(f"{len(wrong)} import(s) go against the layers (see ARCHITECTURE.md)",
              file=sys.stderr)
        return 1
    print("ok: every import goes down the layers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
