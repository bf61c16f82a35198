"""Reading a captured SAMLResponse for ``broker login --saml-response``: as the browser shows
it, from stdin or from a file only its owner can read."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from broker.commands.saml_capture import read_captured_response
from broker.errors import UsageError

VALUE = "PHNhbWxwOlJlc3BvbnNlIC8+"  # base64 with '+' (form-encoded as %2B)


def test_stdin_value_wrapped_or_form_encoded_is_read_as_base64(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(VALUE[:10] + "\n" + VALUE[10:] + "\n"))
    assert read_captured_response("-") == VALUE
    monkeypatch.setattr("sys.stdin", io.StringIO("SAMLResponse=" + VALUE.replace("+", "%2B")))
    assert read_captured_response("-") == VALUE


def test_empty_input_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(" \n"))
    with pytest.raises(UsageError, match="empty"):
        read_captured_response("-")


def test_a_file_others_can_read_is_refused_naming_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "response.txt"
    path.write_text(VALUE)
    os.chmod(path, 0o640)
    with pytest.raises(UsageError) as refused:
        read_captured_response(str(path))
    assert f"chmod 600 {path}" in str(refused.value) and VALUE not in str(refused.value)
    os.chmod(path, 0o600)
    assert read_captured_response(str(path)) == VALUE


def test_a_symlink_or_missing_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "real.txt"
    target.write_text(VALUE)
    os.chmod(target, 0o600)
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    with pytest.raises(UsageError):
        read_captured_response(str(link))
    with pytest.raises(UsageError, match="cannot read"):
        read_captured_response(str(tmp_path / "absent.txt"))
