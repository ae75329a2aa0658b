"""``json.loads`` and ``json.dumps`` for hook processes, without importing the ``json`` package.

``import json`` pulls in ``re`` and with it ``enum``, ``functools`` and ``collections``, and
compiles half a dozen regular expressions: about half a bare interpreter start, paid on every
hook event and every refresh of the status line. The work itself is done by CPython's C
scanner and encoder (``_json``) either way; this module only skips the Python wrapper around
them, with ``json``'s default options: strict strings, ``NaN``/``Infinity`` accepted,
whitespace around the value allowed and anything else after it an error, bytes decoded as UTF-8
(other encodings go to ``json``), ``", "``/``": "`` separators, ``TypeError`` for what JSON
cannot hold. Where ``_json`` is missing these are ``json.loads``/``json.dumps``.
``tests/test_parsing.py`` holds both pairs to the same answers.
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


def _encoders() -> dict[bool, Callable[[object, int], list[str]]]:
    """``json.JSONEncoder(ensure_ascii=...)``'s one-shot C encoder, by ``ensure_ascii``."""
    try:
        import _json
    except ImportError:
        return {}
    make: Any = _json.make_encoder
    return {ascii_only: make({}, _not_serializable, escape, None, ": ", ", ", False, False, True)
            for ascii_only, escape in ((True, _json.encode_basestring_ascii),
                                       (False, _json.encode_basestring))}


_scan = _scanner()
_encode = _encoders()


def loads(data: str | bytes | bytearray) -> Any:
    """One JSON document; ``ValueError`` (as ``json`` raises) when ``data`` is not one."""
    if _scan is None:
        import json

        return json.loads(data)
    if not isinstance(data, str):
        if data[:3] == b"\xef\xbb\xbf" or b"\x00" in data[:4]:  # a BOM, UTF-16/32
            import json

            return json.loads(data)
        data = bytes(data).decode("utf-8", "surrogatepass")
    start, length = 0, len(data)
    while start < length and data[start] in _WHITESPACE:
        start += 1
    try:
        value, end = _scan(data, start)
    except StopIteration as exc:
        raise ValueError(f"Expecting value: char {exc.value}") from None
    if end != length and data[end:].strip(_WHITESPACE):
        raise ValueError(f"Extra data: char {end}")
    return value


def dumps(value: object, ensure_ascii: bool = True) -> str:
    """``json.dumps(value, ensure_ascii=ensure_ascii)``."""
    encode = _encode.get(ensure_ascii)
    if encode is None:
        import json

        return json.dumps(value, ensure_ascii=ensure_ascii)
    return "".join(encode(value, 0))
