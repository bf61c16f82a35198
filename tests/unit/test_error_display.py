"""Every error the CLI prints is one printable line, whatever value it echoes."""

from __future__ import annotations

import pytest

from broker.errors import one_printable_line
from tests.conftest import one_line


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain text, kept", "plain text, kept"),
        ("two\nlines\r\tand a tab", "two\\nlines\\r\\tand a tab"),
        ("red \x1b[31mtext", "red \\x1b[31mtext"),
        ("bidi \u202eevil", "bidi \\u202eevil"),
        ("line\u2028separator\x85next", "line\\u2028separator\\x85next"),
        ("zero\u200bwidth", "zero\\u200bwidth"),
        ("caf\u00e9 \u0430dmin", "caf\u00e9 \u0430dmin"),  # printable letters stay as they are
    ],
)
def test_unprintable_characters_are_spelled_as_escapes(raw, shown) -> None:
    assert one_printable_line(raw) == shown


def test_a_limit_cuts_and_says_how_much_was_cut() -> None:
    assert one_printable_line("a" * 10, 4) == "aaaa...(6 more characters)"
    assert one_printable_line("short", 10) == "short"


@pytest.mark.parametrize(
    "profile", ["ev\nil", "ev\x1b[2J\x1b[31mil", "ev\r\u2028il\u202e"], ids=["nl", "esc", "cr-ls"]
)
def test_a_profile_name_with_control_characters_is_echoed_on_one_line(run_broker, profile) -> None:
    result = run_broker("credential-process", "--profile", profile)
    assert result.returncode == 3
    line = one_line(result.stderr)
    assert line.startswith("broker: error: no profile")
    assert line.isprintable() and "\x1b" not in result.stderr and "\r" not in result.stderr
    assert result.stderr.count("\n") == 1  # the line's own end, nothing inside it
