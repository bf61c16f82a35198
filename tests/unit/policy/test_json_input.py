"""``json_input.loads`` gives exactly what ``json.loads`` gives: the same value, or the same
exception (which ``broker policy simulate`` words as its one-line exit-2 error)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from broker.policy import json_input
from tests.unit.policy.test_properties import SETTINGS

EDGE_CASES = [
    '{"a": 1, "a": 2}',  # the last of duplicate keys
    "[1e400, -1e400, 5e-324, 1.5e-400, -0, -0.0, 0.1, 1E5, 9007199254740993]",
    "[NaN, Infinity, -Infinity]",
    '["\\ud800", "\\udc00x", "\\ud83d\\ude00", "\\u0000", "\\/"]',  # lone surrogates: json's
    "[" + "9" * 4300 + "]",
    "[" + "9" * 4301 + "]",  # over Python's digit cap: ValueError
    "[" * 1000 + "]" * 1000,  # deeper than the fast reader goes, not than json
    "[" * 100000 + "]" * 100000,  # RecursionError
    "",
    "[1,]",
    "[01]",
    "[.5]",
    '["a\tb"]',
    "\ufeff[1]",
    '{"a": 1}{"b": 2}',
    " \n[1]\n ",
    "[1] x",
    '"\u2028"',
]


def _outcome(read, text: str) -> tuple[str, str]:
    try:
        return "value", repr(read(text))  # repr: NaN is not equal to itself
    except json.JSONDecodeError as exc:
        return "JSONDecodeError", f"{exc.msg} line {exc.lineno} column {exc.colno}"
    except RecursionError:
        return "RecursionError", ""
    except ValueError as exc:
        return type(exc).__name__, str(exc)


@pytest.mark.parametrize("text", EDGE_CASES)
def test_the_same_value_or_the_same_error_as_json(text: str) -> None:
    assert _outcome(json_input.loads, text) == _outcome(json.loads, text)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@SETTINGS
@given(json_values, st.booleans())
def test_any_document_reads_as_json_reads_it(value, ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert _outcome(json_input.loads, text) == _outcome(json.loads, text)


def test_the_fast_reader_is_there() -> None:
    """A declared dependency: without it the batch is read at half the speed (still right)."""
    assert json_input._FAST is not None
