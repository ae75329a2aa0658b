"""Rewrite a JSON document's text to hold a new value, keeping the user's formatting.

An installer that merges entries into a settings file, and later takes them out, must
give the user their own bytes back.  So ``rewrite`` parses the text with positions,
walks old and new value together and edits only what changed: equal parts keep their
text, new parts follow the document's own style (indent, newline, ``": "`` or ``":"``,
multi-line or inline), and a removed item takes exactly one comma and its own
whitespace with it, so adding items and removing them again restores the original.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NoReturn

__all__ = ["JSONEditError", "rewrite"]

_WS = " \t\r\n"
_SCALAR = re.compile(
    r'"(?:[^"\\]|\\.)*"|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null',
    re.DOTALL,
)
_INDENTED_LINE = re.compile(r"\n([ \t]+)[^ \t\r\n]")


class JSONEditError(ValueError):
    """The text is not exactly one strict JSON document, or it repeats a key."""


@dataclass
class _Node:
    """A value in the text: its span, its Python value and, for containers, its items."""

    start: int
    end: int
    value: object
    items: list[_Item] | None = None


@dataclass
class _Item:
    """An object member (starting at its key) or an array element."""

    start: int
    key: str | None
    node: _Node


class _Parser:
    """Strict recursive-descent parser that records where every value and item sits."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 1 if text.startswith("\ufeff") else 0

    def document(self) -> _Node:
        root = self.value()
        self.skip_ws()
        if self.pos != len(self.text):
            self.fail("extra data after the JSON value")
        return root

    def fail(self, what: str) -> NoReturn:
        raise JSONEditError(f"{what} at offset {self.pos}")

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in _WS:
            self.pos += 1

    def value(self) -> _Node:
        self.skip_ws()
        if self.text.startswith(("{", "["), self.pos):
            return self.container()
        match = _SCALAR.match(self.text, self.pos)
        if match is None:
            self.fail("expected a JSON value")
        try:  # json itself decides what a number or a string means
            value = json.loads(match.group())
        except ValueError:
            self.fail("invalid JSON value")
        node = _Node(self.pos, match.end(), value)
        self.pos = match.end()
        return node

    def container(self) -> _Node:
        start, is_object = self.pos, self.text[self.pos] == "{"
        closer = "}" if is_object else "]"
        self.pos += 1
        items: list[_Item] = []
        seen: set[str] = set()
        self.skip_ws()
        done = self.text.startswith(closer, self.pos)
        self.pos += done
        while not done:
            item = self.member() if is_object else self.element()
            if item.key is not None:
                if item.key in seen:  # settings with a repeated key are ambiguous
                    raise JSONEditError(f"duplicate key {item.key!r} at offset {item.start}")
                seen.add(item.key)
            items.append(item)
            self.skip_ws()
            if not self.text.startswith((",", closer), self.pos):
                self.fail(f"expected ',' or {closer!r}")
            done = self.text[self.pos] == closer
            self.pos += 1
        if is_object:
            return _Node(start, self.pos, {item.key: item.node.value for item in items}, items)
        return _Node(start, self.pos, [item.node.value for item in items], items)

    def member(self) -> _Item:
        self.skip_ws()
        start = self.pos
        key = self.value() if self.text.startswith('"', start) else None
        if key is None or not isinstance(key.value, str):
            self.fail("expected a string key")
        self.skip_ws()
        if not self.text.startswith(":", self.pos):
            self.fail("expected ':'")
        self.pos += 1
        return _Item(start, key.value, self.value())

    def element(self) -> _Item:
        node = self.value()
        return _Item(node.start, None, node)


def _same(a: object, b: object) -> bool:
    """Equality that tells true from 1, 1 from 1.0 and 0.0 from -0.0, so those get written."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[key], b[key]) for key in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_same, a, b))
    return type(a) is type(b) and (repr(a) == repr(b) if isinstance(a, float) else a == b)


def _extends(big: object, small: object) -> bool:
    """Whether big is small plus additions only (new keys, new elements, at any depth)."""
    if isinstance(big, dict) and isinstance(small, dict):
        return all(key in big and _extends(big[key], value) for key, value in small.items())
    if isinstance(big, list) and isinstance(small, list):
        return _embed(small, big) is not None
    return _same(big, small)


def _embed(small: list[object], big: list[object]) -> list[tuple[int, int]] | None:
    """Place every element of small, in order, on a distinct element of big that extends it.

    Of all placements, take the one with the most equal pairs (so equal elements keep
    their text), ties going to the earliest elements of big.  An install and its
    uninstall both call this as (shorter list, longer list), so they pair the same
    elements, which is what lets the uninstall undo the install exactly.
    """
    n, m = len(small), len(big)
    fit: dict[tuple[int, int], int] = {}  # -1: big[j] does not extend small[i]; 1: equal

    def via(i: int, j: int) -> int:
        """Best score for small[i:] on big[j:] when small[i] goes on big[j] (-1: cannot)."""
        if score[i + 1][j + 1] < 0:
            return -1
        if (i, j) not in fit:
            extends = _extends(big[j], small[i])
            fit[i, j] = -1 if not extends else int(_same(big[j], small[i]))
        return -1 if fit[i, j] < 0 else score[i + 1][j + 1] + fit[i, j]

    # score[i][j]: most equal pairs placing small[i:] on big[j:], or -1 if impossible
    score = [[-1] * (m + 1) for _ in range(n)] + [[0] * (m + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            score[i][j] = max(score[i][j + 1], via(i, j))
    if score[0][0] < 0:
        return None
    pairs, j = [], 0
    for i in range(n):
        while via(i, j) != score[i][j]:  # the earliest place that keeps the best score
            j += 1
        pairs.append((i, j))
        j += 1
    return pairs


def _lcs(old: list[object], new: list[object]) -> list[tuple[int, int]]:
    """Pair equal elements (a longest common subsequence), then each gap's rest by position."""
    n, m = len(old), len(new)
    suffix = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            if _same(old[i], new[j]):
                suffix[i][j] = suffix[i + 1][j + 1] + 1
            else:
                suffix[i][j] = max(suffix[i + 1][j], suffix[i][j + 1])
    equal, i, j = [], 0, 0
    while i < n and j < m:
        if _same(old[i], new[j]):
            equal.append((i, j))
            i, j = i + 1, j + 1
        elif suffix[i + 1][j] >= suffix[i][j + 1]:
            i += 1
        else:
            j += 1
    pairs: list[tuple[int, int]] = []
    last_old = last_new = -1
    for o, k in [*equal, (n, m)]:
        pairs += zip(range(last_old + 1, o), range(last_new + 1, k), strict=False)
        pairs += [(o, k)] if o < n else []
        last_old, last_new = o, k
    return pairs


def _align(old: list[object], new: list[object]) -> list[tuple[int, int]]:
    """Pair old and new array elements as increasing (old index, new index) pairs."""
    pairs = _embed(old, new)
    if pairs is not None:
        return pairs
    pairs = _embed(new, old)
    if pairs is not None:
        return [(o, n) for n, o in pairs]
    return _lcs(old, new)


def _containers(node: _Node) -> Iterator[_Node]:
    """Node itself and every container inside it, in document order."""
    if node.items is not None:
        yield node
        for item in node.items:
            yield from _containers(item.node)


@dataclass
class _Style:
    """How new items are written into one container."""

    multi: bool  # one item per line, or all on one line
    indent: str  # indentation of an item's line (multi-line only)
    item_sep: str  # "," plus the spaces between items on one line
    key_sep: str  # ":" or ": "


class _Editor:
    """Collects (start, end, replacement) edits that turn the old text into the new value."""

    def __init__(self, text: str, root: _Node) -> None:
        self.text, self.root = text, root
        self.nl = "\r\n" if "\r\n" in text else "\n"
        indented = _INDENTED_LINE.search(text)
        self.unit = indented.group(1) if indented else "  "
        key_sep, item_sep = self._seps(root)
        self.key_sep = key_sep or ": "
        self.item_sep = item_sep or ("," if self.key_sep == ":" else ", ")
        self.edits: list[tuple[int, int, str]] = []
        # the document as the context of its root value
        multi = "\n" in text[root.start : root.end]
        self.root_style = _Style(multi, "", self.item_sep, self.key_sep)

    def _seps(self, node: _Node) -> tuple[str | None, str | None]:
        """The first key separator and on-one-line item separator written inside node."""
        key_sep = item_sep = None
        for container in _containers(node):
            items = container.items or []
            if key_sep is None and isinstance(container.value, dict) and items:
                head = self.text[items[0].start : items[0].node.start]
                key_sep = ": " if head[head.rindex(":") + 1 :] else ":"
            if item_sep is None and len(items) > 1:
                between = self.text[items[0].node.end : items[1].start]
                item_sep = None if "\n" in between else between[between.index(",") :]
            if key_sep and item_sep:
                break
        return key_sep, item_sep

    def _line_indent(self, pos: int) -> str:
        start = end = self.text.rfind("\n", 0, pos) + 1
        while end < pos and self.text[end] in " \t":
            end += 1
        return self.text[start:end]

    def _style(self, node: _Node, context: _Style) -> _Style:
        """Style of node's items; an empty container takes the layout of its context."""
        items = node.items or []
        multi = "\n" in self.text[node.start : node.end] if items else context.multi
        indent = self._line_indent(node.start) + self.unit
        head = self.text[node.start + 1 : items[0].start] if items else ""
        if "\n" in head:  # the first item sits on its own line: line up with it
            indent = head[head.rindex("\n") + 1 :]
        key_sep, item_sep = self._seps(node)
        return _Style(multi, indent, item_sep or self.item_sep, key_sep or self.key_sep)

    def _render(self, value: object, style: _Style, indent: str) -> str:
        """Write a new part: json.dumps in this container's layout, moved to indent."""
        if not style.multi:
            return json.dumps(value, ensure_ascii=False, allow_nan=False,
                              separators=(style.item_sep, style.key_sep))
        seps = (",", style.key_sep)
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, indent=self.unit,
                          separators=seps)
        return text.replace("\n", self.nl + indent)

    def walk(self, node: _Node, new: object, context: _Style) -> None:
        """Add the edits that turn node's text into new (none when they are equal)."""
        if _same(node.value, new):
            return
        if isinstance(new, dict | list) and type(node.value) is type(new):
            self._edit_container(node, new, self._style(node, context))
        else:
            indent = self._line_indent(node.start)
            self.edits.append((node.start, node.end, self._render(new, context, indent)))

    def _edit_container(
        self, node: _Node, new: dict[str, object] | list[object], style: _Style
    ) -> None:
        """Walk into the items new keeps (members by key, elements by _align), add the rest."""
        items = node.items or []
        plan: list[tuple[int | None, object, str]]  # (old item or None, value, key prefix)
        if isinstance(new, dict):
            where = {item.key: i for i, item in enumerate(items)}
            keys = [json.dumps(key, ensure_ascii=False) + style.key_sep for key in new]
            plan = [(where.get(k), v, t) for (k, v), t in zip(new.items(), keys, strict=True)]
        else:
            partner = {n: o for o, n in _align([item.node.value for item in items], new)}
            plan = [(partner.get(j), value, "") for j, value in enumerate(new)]
        groups: dict[int, list[str]] = {}  # new items by the old item they follow (-1: none)
        after = -1
        for old, value, prefix in plan:
            if old is not None:
                after = old
                self.walk(items[old].node, value, style)
            else:
                text = prefix + self._render(value, style, style.indent)
                groups.setdefault(after, []).append(text)
        kept = sorted(old for old, _, _ in plan if old is not None)
        self._splice(node, kept, groups, style)

    def _splice(
        self, node: _Node, kept: list[int], groups: dict[int, list[str]], style: _Style
    ) -> None:
        """Drop the items not kept and insert the new ones, each with exactly one comma.

        A dropped run takes the separator after it (or, at the end, the one before it);
        new items go in before the next kept item or after the last one with the same
        rule mirrored, so dropping them again removes exactly what was inserted.
        """
        items = node.items or []
        sep = "," + self.nl + style.indent if style.multi else style.item_sep
        if not kept:
            body = sep.join(groups.get(-1, []))
            if body and style.multi:
                body = self.nl + style.indent + body + self.nl + self._line_indent(node.start)
            if items or body:
                self.edits.append((node.start + 1, node.end - 1, body))
            return
        bounds = [-1, *kept, len(items)]
        for before, after in itertools.pairwise(bounds):  # drop the items in between
            if before + 1 < after < len(items):  # up to the next kept item: their commas go too
                self.edits.append((items[before + 1].start, items[after].start, ""))
            elif before + 1 < after:  # the run ends the container: take the comma before it
                self.edits.append((items[before].node.end, items[after - 1].node.end, ""))
        for after, texts in groups.items():
            following = [k for k in kept if k > after]
            if following:
                at = items[following[0]].start
                self.edits.append((at, at, "".join(text + sep for text in texts)))
            else:
                at = items[kept[-1]].node.end
                self.edits.append((at, at, "".join(sep + text for text in texts)))

    def result(self) -> str:
        """Apply the edits from the end, so earlier offsets stay valid."""
        pieces, last = [], len(self.text)
        for start, end, text in sorted(self.edits, key=lambda e: (e[0], e[1]), reverse=True):
            if end > last:
                raise AssertionError("jsonedit bug: overlapping edits")
            pieces += [self.text[end:last], text]
            last = start
        return self.text[:last] + "".join(reversed(pieces))


def rewrite(text: str, new: object) -> str:
    """Return ``text`` edited so that it holds ``new``, changing only what differs.

    ``new`` is taken as ``json.dumps`` sees it (tuples become lists, and so on); values
    json cannot write raise its TypeError. Text that is not exactly one strict JSON document
    (an optional BOM aside), or that repeats a key in an object, raises JSONEditError, and
    so does a part to be written anew that holds a number past a float (``1e400`` reads as
    infinity, which JSON cannot write): the text of parts left alone is kept, such a number
    included.
    """
    target = json.loads(json.dumps(new))
    try:
        root = _Parser(text).document()
        if _same(root.value, target):
            return text
        editor = _Editor(text, root)
        editor.walk(root, target, editor.root_style)
        result = editor.result()
        if not _same(_Parser(result).document().value, target):
            raise AssertionError("jsonedit bug: the edited text does not hold the new value")
    except RecursionError:
        raise JSONEditError("JSON nested too deeply") from None
    except JSONEditError:
        raise
    except ValueError as exc:  # json.dumps(allow_nan=False) of a part written anew
        raise JSONEditError(f"cannot write {exc}") from None
    return result
