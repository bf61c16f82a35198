"""The terminal app's paste field: a pasted SAMLResponse (wrapped, form-encoded, named) or the
path of a private file holding one, read by the command line's own functions."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from broker.errors import UsageError
from broker.tokens.saml.safe_xml import MAX_ENCODED_BYTES
from broker.tui.saml_capture import captured_response, is_file_path

VALUE = "PHNhbWxwOlJlc3BvbnNlIC8+"  # base64 of XML: it starts with P ('<')


def test_a_pasted_value_is_taken_as_the_browser_showed_it() -> None:
    assert captured_response(VALUE[:10] + "\n" + VALUE[10:] + "\n") == VALUE
    assert captured_response("SAMLResponse=" + VALUE.replace("+", "%2B")) == VALUE
    long = "PD94" * 5000  # far beyond a terminal line's 4095 characters
    assert captured_response(long) == long


@pytest.mark.parametrize("path", ["/tmp/r.txt", "~/r.txt", "./r.txt", "../r.txt", " ~/r \n"])
def test_paths_are_told_from_values(path: str) -> None:
    assert is_file_path(path)


@pytest.mark.parametrize("value", [VALUE, "SAMLResponse=" + VALUE, "~/a b", "/" + "x" * 4096])
def test_values_are_not_paths(value: str) -> None:
    assert not is_file_path(value)


def test_a_private_file_is_read_and_an_open_one_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    path = tmp_path / "response.txt"
    path.write_text(VALUE + "\n")
    os.chmod(path, 0o600)
    assert captured_response("~/response.txt") == VALUE
    os.chmod(path, 0o644)
    with pytest.raises(UsageError) as refused:
        captured_response(str(path))
    assert f"chmod 600 {path}" in str(refused.value) and VALUE not in str(refused.value)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "SAML response: the pasted value is empty"),
        (" \n ", "SAML response: the pasted value is empty"),
        ("/nowhere/response.txt", "SAML response: cannot read /nowhere/response.txt"),
        ("P" * (MAX_ENCODED_BYTES * 3 + 1), "SAML response: the pasted value holds more than"),
    ],
)
def test_bad_entries_are_one_line_naming_the_field(text: str, says: str) -> None:
    with pytest.raises(UsageError) as refused:
        captured_response(text)
    assert str(refused.value).startswith(says) and "\n" not in str(refused.value)
