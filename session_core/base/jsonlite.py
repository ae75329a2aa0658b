"""``json.loads`` and ``json.dumps`` for hook processes, without importing the ``json`` package.

``import json`` pulls in ``re``, ``enum`` and ``functools`` and compiles regular expressions, on
every hook event and every refresh of the status line (its price is in bench/README.md, the
import ledger). The work itself is done by CPython's C scanner and encoder (``_json``) either
way; this module only skips the Python wrapper around them, with ``json``'s default options:
strict strings, ``NaN``/``Infinity`` accepted, whitespace around the value allowed and anything
else after it an error, bytes decoded as UTF-8 with ``surrogatepass`` (a BOM or UTF-16/32 goes
to ``json``), ``", "``/``": "`` separators, ``TypeError`` for what JSON cannot hold.

Errors are ``json``'s own: whatever the fast path cannot parse or encode is handed to ``json``,
which imports ``json`` then (bad input is rare) and raises its ``JSONDecodeError`` with line and
column. That is also necessary: before Python 3.12 the C scanner reports a syntax error through
``json.decoder.JSONDecodeError`` only if ``json`` is already imported, and otherwise returns a
bare ``SystemError``. Where ``_json`` is missing these are ``json.loads``/``json.dumps``.
``tests/test_parsing.py`` holds both pairs to the same answers, in a process without ``json``.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: the point of this module is a short import list
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

_WHITESPACE = " \t\n\r"


class _Options:
    """What ``_json.make_scanner`` reads from its context, set as ``json.JSONDecoder()`` does."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = {"-Infinity": float("-inf"), "Infinity": float("inf"),
                      "NaN": float("nan")}.__getitem__


def _not_serializable(value: object) -> object:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _scanner() -> Callable[[str, int], tuple[Any, int]] | None:
    try:
        import _json
    except ImportError:  # not CPython
        return None
    make: Any = _json.make_scanner  # typeshed types its context as the scanner itself
    scanner: Callable[[str, int], tuple[Any, int]] = make(_Options())
    return scanner


def _encoder_maker() -> Callable[[bool], Callable[[object, int], list[str]]] | None:
    """Makes ``json.JSONEncoder(ensure_ascii=...)``'s one-shot C encoder. One per call, as
    ``json.dumps`` does: its circular-reference markers are not cleared after a failure."""
    try:
        import _json
    except ImportError:
        return None
    make: Any = _json.make_encoder
    escapes = {True: _json.encode_basestring_ascii, False: _json.encode_basestring}

    def encoder(ensure_ascii: bool) -> Callable[[object, int], list[str]]:
        made: Callable[[object, int], list[str]] = make(
            {}, _not_serializable, escapes[ensure_ascii], None, ": ", ", ", False, False, True)
        return made

    return encoder


_scan = _scanner()
_make_encoder = _encoder_maker()


def loads(data: str | bytes | bytearray) -> Any:
    """``json.loads(data)``: one JSON document, else ``json``'s ``ValueError``."""
    if _scan is None or (not isinstance(data, str) and (
            data[:3] == b"\xef\xbb\xbf" or b"\x00" in data[:4])):  # a BOM, UTF-16/32
        return _json_loads(data)
    try:
        text = data if isinstance(data, str) else bytes(data).decode("utf-8", "surrogatepass")
        start, length = 0, len(text)
        while start < length and text[start] in _WHITESPACE:
            start += 1
        value, end = _scan(text, start)
    except RecursionError:
        raise
    except Exception:  # StopIteration, a syntax error (maybe a SystemError), bad UTF-8
        return _json_loads(data)
    if end != length and text[end:].strip(_WHITESPACE):
        return _json_loads(data)  # extra data after the value: json says where
    return value


def _json_loads(data: str | bytes | bytearray) -> Any:
    import json

    return json.loads(data)


def dumps(value: object, ensure_ascii: bool = True) -> str:
    """``json.dumps(value, ensure_ascii=ensure_ascii)``; anything the C encoder refuses goes to
    ``json.dumps``, so the error (or, where the C encoder is wrong, the answer) is json's."""
    if _make_encoder is not None:
        try:
            return "".join(_make_encoder(ensure_ascii)(value, 0))
        except RecursionError:
            raise
        except Exception:  # TypeError, a circular reference, whatever a future _json raises
            pass
    import json

    return json.dumps(value, ensure_ascii=ensure_ascii)
