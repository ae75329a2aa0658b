"""Tests for jsonedit: hand-written settings documents plus hypothesis properties."""

from __future__ import annotations

import copy
import json
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from session_core.cli.setup.jsonedit import JSONEditError, _Parser, rewrite

SETTINGS = (
    b'{\n    "model": "sonnet",\n    "hooks": {\n'
    b'        "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", '
    b'"command": "echo guard"}]}],\n'
    b'        "SessionStart": [{"hooks": [{"type": "command", "command": "echo theirs"}]}]\n'
    b"    }\n}"
)
OURS = {"hooks": [{"type": "command", "command": "echo ours"}]}
HOOKS = {"Stop": [{"hooks": [{"type": "command", "command": "x"}]}]}


def load(text: str) -> Any:
    return json.loads(text.removeprefix("\ufeff"))


def canon(value: object) -> str:
    """Compare values strictly: true is not 1, 1 is not 1.0 (key order does not matter)."""
    return json.dumps(value, sort_keys=True)


def edit(text: str, new: object) -> str:
    """rewrite, checking that the result is strict JSON holding exactly new."""
    out = rewrite(text, new)
    _Parser(out).document()
    assert canon(load(out)) == canon(new)
    return out


# --- the installer's own scenario -------------------------------------------------------


def test_settings_install_and_uninstall_give_back_the_bytes() -> None:
    text = SETTINGS.decode()
    old = load(text)
    new = copy.deepcopy(old)
    new["hooks"]["SessionStart"].append(OURS)
    new["hooks"]["PostToolUse"] = [{"matcher": "Edit", **OURS}]
    out = edit(text, new)
    lines = text.split("\n")
    ours = '{"hooks": [{"type": "command", "command": "echo ours"}]}'
    assert out.split("\n") == [
        *lines[:4],
        lines[4][:-1] + ", " + ours + "],",
        '        "PostToolUse": [',
        "            {",
        '                "matcher": "Edit",',
        '                "hooks": [',
        "                    {",
        '                        "type": "command",',
        '                        "command": "echo ours"',
        "                    }",
        "                ]",
        "            }",
        "        ]",
        *lines[5:],
    ]
    assert edit(out, old).encode() == SETTINGS


def test_new_event_goes_after_the_preceding_existing_key() -> None:
    text = SETTINGS.decode()
    old = load(text)
    hooks = old["hooks"]
    new = {**old, "hooks": {"PreToolUse": hooks["PreToolUse"], "Notification": [OURS],
                            "SessionStart": hooks["SessionStart"]}}
    out = edit(text, new)
    assert '}]}],\n        "Notification": [\n            {\n' in out
    assert '        ],\n        "SessionStart": [{"hooks"' in out
    assert edit(out, old).encode() == SETTINGS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{}", '{"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "x"}]}]}}'),
        ("{}\n", '{"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "x"}]}]}}\n'),
        ('{"a": 1}', '{"a": 1, "hooks": {"Stop": [{"hooks": [{"type": "command", '
                     '"command": "x"}]}]}}'),
        ('{"a":1}', '{"a":1,"hooks":{"Stop":[{"hooks":[{"type":"command","command":"x"}]}]}}'),
        ("{\n  \"a\": 1\n}\n", '{\n  "a": 1,\n  "hooks": {\n    "Stop": [\n      {\n'
                               '        "hooks": [\n          {\n            "type": "command",\n'
                               '            "command": "x"\n          }\n        ]\n      }\n'
                               "    ]\n  }\n}\n"),
        ('{\n\t"a": 1\n}', '{\n\t"a": 1,\n\t"hooks": {\n\t\t"Stop": [\n\t\t\t{\n\t\t\t\t"hooks": '
                           '[\n\t\t\t\t\t{\n\t\t\t\t\t\t"type": "command",\n\t\t\t\t\t\t'
                           '"command": "x"\n\t\t\t\t\t}\n\t\t\t\t]\n\t\t\t}\n\t\t]\n\t}\n}'),
    ],
)
def test_missing_hooks_key_is_added_and_removed(text: str, expected: str) -> None:
    old = load(text)
    out = edit(text, {**old, "hooks": HOOKS})
    assert out == expected
    assert edit(out, old) == text


def test_bom_and_crlf_are_kept() -> None:
    text = '\ufeff{\r\n    "a": "\\u00e9",\r\n    "b": []\r\n}'
    out = edit(text, {"a": "é", "b": [1], "c": {"d": True}})
    assert out == (
        '\ufeff{\r\n    "a": "\\u00e9",\r\n    "b": [\r\n        1\r\n    ],\r\n'
        '    "c": {\r\n        "d": true\r\n    }\r\n}'
    )
    assert edit(out, {"a": "é", "b": []}) == text


def test_inline_empty_object_in_an_indented_file_becomes_multi_line() -> None:
    text = '{\n  "permissions": {},\n  "model": "opus"\n}\n'
    new = {"permissions": {"allow": ["Bash(ls)"]}, "model": "opus"}
    out = edit(text, new)
    assert out == (
        '{\n  "permissions": {\n    "allow": [\n      "Bash(ls)"\n    ]\n  },\n'
        '  "model": "opus"\n}\n'
    )
    assert edit(out, load(text)) == text


def test_whitespace_inside_an_empty_container_is_not_restored() -> None:
    # Known limit: "[ ]" that gains items and loses them again comes back as "[]".
    assert edit(edit('{"a": [ ]}', {"a": [1]}), {"a": []}) == '{"a": []}'
    assert edit('{"a": [ ]}', {"a": [1]}) == '{"a": [1]}'


def test_empty_container_inside_an_inline_one_stays_inline() -> None:
    text = '{\n  "PreToolUse": [{"matcher": "Bash", "hooks": []}]\n}'
    new = {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command"}]}]}
    out = edit(text, new)
    assert out == '{\n  "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command"}]}]\n}'
    assert edit(out, load(text)) == text


# --- removal ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "drop", "expected"),
    [
        ("[1, 2, 3]", [0], "[2, 3]"),
        ("[1, 2, 3]", [1], "[1, 3]"),
        ("[1, 2, 3]", [2], "[1, 2]"),
        ("[1, 2, 3]", [0, 2], "[2]"),
        ("[1, 2, 3]", [1, 2], "[1]"),
        ("[1,2,3]", [0, 1], "[3]"),
        ("[1, 2, 3]", [0, 1, 2], "[]"),
        ("[\n  1,\n  2,\n  3\n]", [0], "[\n  2,\n  3\n]"),
        ("[\n  1,\n  2,\n  3\n]", [1], "[\n  1,\n  3\n]"),
        ("[\n  1,\n  2,\n  3\n]", [2], "[\n  1,\n  2\n]"),
        ("[\n  1,\n  2,\n  3\n]", [0, 1, 2], "[]"),
        ('{"a": 1, "b": 2, "c": 3}', [0], '{"b": 2, "c": 3}'),
        ('{"a": 1, "b": 2, "c": 3}', [1], '{"a": 1, "c": 3}'),
        ('{"a": 1, "b": 2, "c": 3}', [2], '{"a": 1, "b": 2}'),
        ('{"a":1,"b":2,"c":3}', [1, 2], '{"a":1}'),
        ('{\n    "a": 1,\n    "b": 2,\n    "c": 3\n}', [0], '{\n    "b": 2,\n    "c": 3\n}'),
        ('{\n    "a": 1,\n    "b": 2,\n    "c": 3\n}', [1], '{\n    "a": 1,\n    "c": 3\n}'),
        ('{\n    "a": 1,\n    "b": 2,\n    "c": 3\n}', [2], '{\n    "a": 1,\n    "b": 2\n}'),
        ('{\n\t"a": 1,\n\t"b": 2,\n\t"c": 3\n}', [0, 2], '{\n\t"b": 2\n}'),
        ('{\n  "a": {\n    "x": 1\n  }\n}', [0], "{}"),
    ],
)
def test_removal_leaves_no_stray_commas_or_lines(text: str, drop: list[int], expected: str) -> None:
    old = load(text)
    if isinstance(old, list):
        new: object = [v for i, v in enumerate(old) if i not in drop]
    else:
        new = {k: v for i, (k, v) in enumerate(old.items()) if i not in drop}
    assert edit(text, new) == expected


def test_removing_and_adding_in_one_container() -> None:
    assert edit('{"a": 1, "b": 2}', {"a": 1, "x": 0}) == '{"a": 1, "x": 0}'
    assert edit('{"a": 1, "b": 2}', {"x": 0, "b": 2}) == '{"x": 0, "b": 2}'
    assert edit("[\n  1,\n  2\n]", ["x"]) == '[\n  "x"\n]'
    assert edit('{\n  "a": 1\n}', {"b": 2}) == '{\n  "b": 2\n}'


# --- keeping the user's text ----------------------------------------------------------------


def test_array_insertions_keep_the_other_elements_text() -> None:
    assert edit("[1E2, 2.50, 3]", [100.0, 9, 2.5, 3]) == "[1E2, 9, 2.50, 3]"
    assert edit("[\n  1E2,\n  2.50\n]", [0, 100.0, 2.5, 7]) == "[\n  0,\n  1E2,\n  2.50,\n  7\n]"
    assert edit('["\\u0041", "b"]', ["A", "x", "b"]) == '["\\u0041", "x", "b"]'


def test_mixed_array_edits_keep_equal_elements_and_edit_the_rest_in_place() -> None:
    text = '[1, "a", {"k": 1, "j": 2}, 3]'
    assert edit(text, [1, "b", {"k": 1}, 4, 5]) == '[1, "b", {"k": 1}, 4, 5]'
    text = '{\n  "a": [\n    {"x": 1},\n    {"y": 2}\n  ]\n}'
    out = edit(text, {"a": [{"y": 2, "z": 0}, {"x": 1}]})
    assert out == '{\n  "a": [\n    {\n      "y": 2,\n      "z": 0\n    },\n    {"x": 1}\n  ]\n}'


def test_additions_win_over_equality_when_they_disagree() -> None:
    # [A, B] -> [B, A+, B+]: the old B text becomes B+, and the new leading B is written.
    out = edit('[{"a": 1}, {"b": 2}]', [{"b": 2}, {"a": 1, "c": 3}, {"b": 2, "d": 4}])
    assert out == '[{"b": 2}, {"a": 1, "c": 3}, {"b": 2, "d": 4}]'
    assert edit(out, [{"a": 1}, {"b": 2}]) == '[{"a": 1}, {"b": 2}]'


def test_key_order_follows_new_for_new_keys_only() -> None:
    assert edit('{"a": 1, "b": 2}', {"x": 0, "a": 1, "y": 0, "b": 2, "z": 0}) == (
        '{"x": 0, "a": 1, "y": 0, "b": 2, "z": 0}'
    )
    assert edit('{"a": 1, "b": 2}', {"b": 2, "x": 0, "a": 1}) == '{"a": 1, "b": 2, "x": 0}'
    assert edit('{"a": 1, "b": 2}', {"b": 2, "a": 1}) == '{"a": 1, "b": 2}'


def test_scalars_and_other_types_replace_just_their_span() -> None:
    text = '{\n  "a" : 1 ,\n  "b": [1,  2],\n  "c": "\\u00e9"\n}'
    assert edit(text, {"a": "x", "b": [1, 2], "c": "é"}) == text.replace("1 ,", '"x" ,')
    out = edit(text, {"a": 1, "b": {"k": 1}, "c": "é"})
    assert out == '{\n  "a" : 1 ,\n  "b": {\n    "k": 1\n  },\n  "c": "\\u00e9"\n}'
    assert edit("[1, [2]]", [1, {"k": [2]}]) == '[1, {"k": [2]}]'
    assert edit("  7 \n", [1]) == "  [1] \n"


def test_equal_value_is_identity_but_types_are_strict() -> None:
    text = '{ "a":1.0, "b" :[ true ,null], "c": "h\\u00e9" }'
    assert rewrite(text, load(text)) is text
    assert edit('{"a": 1}', {"a": 1.0}) == '{"a": 1.0}'
    assert edit('{"a": 1}', {"a": True}) == '{"a": true}'
    assert edit('{"a": true}', {"a": 1}) == '{"a": 1}'


def test_non_ascii_stays_as_written_and_new_text_is_not_escaped() -> None:
    text = '{"é": "ü", "e": "\\u00fc"}'
    assert edit(text, {"é": "ü", "e": "ü", "n": "ß"}) == '{"é": "ü", "e": "\\u00fc", "n": "ß"}'


def test_new_value_is_taken_as_json_dumps_sees_it() -> None:
    assert rewrite("[]", (1, 2)) == "[1, 2]"
    with pytest.raises(ValueError):
        rewrite("[]", [float("nan")])
    with pytest.raises(TypeError):
        rewrite("[]", [object()])


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["", " ", "{", "[1,]", '{"a": 1,}', "// c\n{}", "{} // c", "{'a': 1}", "NaN", "[Infinity]",
     "[01]", "[1.]", "[.5]", "[+1]", '{"a": 1}{"b": 2}', "[1 2]", "tru", "\ufeff\ufeff{}",
     '"\x01"', '"\\x"', '{"a" 1}', "{1: 2}", '{"a": 1, "a": 2}', '{"a": {"b": 1, "b": 1}}',
     "[" * 100_000],
)
def test_invalid_documents_raise(text: str) -> None:
    with pytest.raises(JSONEditError):
        rewrite(text, {})
    assert issubclass(JSONEditError, ValueError)


# --- properties ------------------------------------------------------------------------------

scalars = (
    st.none() | st.booleans() | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=6)
)
keys = st.text(max_size=5)
values = st.recursive(
    scalars,
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(keys, kids, max_size=4),
    max_leaves=12,
)
containers = st.lists(values, max_size=4) | st.dictionaries(keys, values, max_size=4)


@st.composite
def styles(draw: st.DrawFn) -> dict[str, Any]:
    indent = draw(st.sampled_from([None, 2, 4, "\t"]))
    if indent is None:
        seps = draw(st.sampled_from([(", ", ": "), (",", ":"), (",", ": "), (", ", ":")]))
    else:
        seps = (",", draw(st.sampled_from([": ", ":"])))
    flags = ("ascii", "final_newline", "crlf", "bom")
    return {"indent": indent, "seps": seps, **{f: draw(st.booleans()) for f in flags}}


def dump(value: object, style: dict[str, Any]) -> str:
    text = json.dumps(value, indent=style["indent"], separators=style["seps"],
                      ensure_ascii=style["ascii"])
    text += "\n" if style["final_newline"] else ""
    text = text.replace("\n", "\r\n") if style["crlf"] else text
    return "\ufeff" + text if style["bom"] else text


def extend(draw: st.DrawFn, value: object) -> object:
    """value plus additions only: new keys and elements anywhere, at any depth."""
    if isinstance(value, dict):
        out = [(k, extend(draw, v) if draw(st.booleans()) else v) for k, v in value.items()]
        for k, v in draw(st.lists(st.tuples(keys, values), max_size=2)):
            if k not in dict(out):
                out.insert(draw(st.integers(0, len(out))), (k, v))
        return dict(out)
    if isinstance(value, list):
        items = [extend(draw, v) if draw(st.booleans()) else v for v in value]
        for v in draw(st.lists(values, max_size=2)):
            items.insert(draw(st.integers(0, len(items))), v)
        return items
    return value


def mutate(draw: st.DrawFn, value: object) -> object:
    """value with arbitrary changes: dropped, replaced, added and edited parts."""
    choice = draw(st.sampled_from(["keep", "edit", "replace"]))
    if choice == "replace":
        return draw(values)
    if choice == "keep" or not isinstance(value, dict | list):
        return value
    if isinstance(value, dict):
        out = {k: mutate(draw, v) for k, v in value.items() if draw(st.booleans())}
        return {**out, **draw(st.dictionaries(keys, values, max_size=2))}
    items = [mutate(draw, v) for v in value if draw(st.booleans())]
    for v in draw(st.lists(values, max_size=2)):
        items.insert(draw(st.integers(0, len(items))), v)
    return items


def messy(draw: st.DrawFn, value: object) -> str:
    """Serialize with arbitrary whitespace around every token (none inside empty containers)."""
    spaces = st.sampled_from(["", " ", "  ", "\n", "\n  ", "\t", " \r\n\t", "\n\n"])

    def ws() -> str:
        return draw(spaces)

    if isinstance(value, dict) and value:
        members = [ws() + json.dumps(k) + ws() + ":" + messy(draw, v) for k, v in value.items()]
        return ws() + "{" + ",".join(members) + "}" + ws()
    if isinstance(value, list) and value:
        return ws() + "[" + ",".join(messy(draw, v) for v in value) + "]" + ws()
    return ws() + json.dumps(value, ensure_ascii=draw(st.booleans())) + ws()


@st.composite
def growths(draw: st.DrawFn) -> tuple[object, object]:
    old = draw(containers)
    return old, extend(draw, old)


EXAMPLES = int(os.environ.get("JSONEDIT_EXAMPLES", "400"))
PROPERTY = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY
@given(growths(), styles())
def test_round_trip_of_additions_gives_back_the_bytes(growth: Any, style: dict[str, Any]) -> None:
    old, new = growth
    text = dump(old, style)
    out = edit(text, new)
    assert edit(out, old) == text


@PROPERTY
@given(growths(), st.data())
def test_round_trip_with_arbitrary_whitespace(growth: Any, data: st.DataObject) -> None:
    old, new = growth
    text = data.draw(st.composite(lambda draw: messy(draw, old))())
    out = edit(text, new)
    assert edit(out, old) == text


@PROPERTY
@given(growths(), styles())
def test_removing_additions_gives_json_dumps_text(growth: Any, style: dict[str, Any]) -> None:
    old, new = growth
    assert edit(dump(new, style), old) == dump(old, style)


@PROPERTY
@given(growths(), st.sampled_from([None, 2, 4, "\t"]), st.booleans(), st.booleans())
def test_additions_are_written_like_json_dumps(
    growth: Any, indent: Any, final_newline: bool, crlf: bool
) -> None:
    old, new = growth
    assume(indent is None or old)  # a bare "{}" or "[]" is a single-line document
    style = {"indent": indent, "seps": (", ", ": ") if indent is None else (",", ": "),
             "ascii": False, "final_newline": final_newline, "crlf": crlf, "bom": False}
    assert edit(dump(old, style), new) == dump(new, style)


@PROPERTY
@given(values, styles())
def test_equal_value_returns_the_text(value: Any, style: dict[str, Any]) -> None:
    text = dump(value, style)
    assert rewrite(text, json.loads(json.dumps(value))) == text


@PROPERTY
@given(st.data(), containers, styles())
def test_any_change_gives_valid_json_holding_new(
    data: st.DataObject, old: Any, style: dict[str, Any]
) -> None:
    new = data.draw(st.composite(lambda draw: mutate(draw, old))())
    text = dump(old, style)
    out = edit(text, new)
    assert rewrite(out, new) == out
    edit(text, data.draw(values))  # an unrelated value: still valid JSON holding it


@PROPERTY
@given(st.data(), st.dictionaries(keys, values, max_size=5), styles())
def test_unchanged_members_keep_their_bytes(
    data: st.DataObject, old: dict[str, Any], style: dict[str, Any]
) -> None:
    new = data.draw(st.composite(lambda draw: mutate(draw, old))())
    assume(isinstance(new, dict))
    assert isinstance(new, dict)
    text = dump(old, style)
    out = edit(text, new)

    def spans(doc: str) -> dict[str | None, str]:
        items = _Parser(doc).document().items or []
        return {item.key: doc[item.node.start : item.node.end] for item in items}

    before, after = spans(text), spans(out)
    for key, value in old.items():
        if key in new and canon(new[key]) == canon(value):
            assert after[key] == before[key]


@PROPERTY
@given(containers, styles(), st.data())
def test_parser_agrees_with_json_on_damaged_documents(
    value: Any, style: dict[str, Any], data: st.DataObject
) -> None:
    text = dump(value, {**style, "bom": False})
    at = data.draw(st.integers(0, len(text)))
    cut = data.draw(st.integers(0, 2))
    char = data.draw(st.sampled_from(list('{}[],:"\\ \n0-1.eEtrufnl')))
    damaged = text[:at] + char + text[at + cut :]

    def strict(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        if len({k for k, _ in pairs}) != len(pairs):
            raise ValueError("duplicate key")
        return dict(pairs)

    def no_constants(name: str) -> Any:
        raise ValueError(name)

    try:
        expected: Any = json.loads(damaged, object_pairs_hook=strict, parse_constant=no_constants)
    except ValueError:
        with pytest.raises(JSONEditError):
            _Parser(damaged).document()
    else:
        assert canon(_Parser(damaged).document().value) == canon(expected)


def test_a_number_past_a_float_is_kept_as_written() -> None:
    """``1e400`` reads as infinity, which JSON cannot write: the parts left alone keep their
    text, and a part that would have to be written anew with it is refused, never written as
    ``Infinity`` (a file Claude Code would reject)."""
    text = '{\n  "x": 1e400,\n  "hooks": {"Stop": [{"n": 1e400}]}\n}\n'
    value = json.loads(text)
    value["hooks"]["Stop"].append({"a": 1})
    value["new"] = True
    edited = rewrite(text, value)
    assert edited.count("1e400") == 2 and "Infinity" not in edited
    assert json.loads(edited) == value
    with pytest.raises(JSONEditError):
        rewrite('{"a": 1}', {"a": [float("inf")]})
