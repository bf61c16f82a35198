"""The CLI's sign-in UI: a browser only on a local display, codes and QR on stderr."""

from __future__ import annotations

import io

import pytest

from broker.terminal_ui import TerminalSignInUI, browser_possible


@pytest.mark.parametrize(
    ("env", "platform", "expected"),
    [
        ({"DISPLAY": ":0"}, "linux", True),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", True),
        ({}, "linux", False),
        ({"DISPLAY": ":0", "SSH_CONNECTION": "198.51.100.1 1 203.0.113.2 22"}, "linux", False),
        ({"SSH_TTY": "/dev/pts/1"}, "darwin", False),
        ({}, "darwin", True),
        ({}, "win32", True),
        # $BROWSER is the person's own choice (a text browser, a forwarding script): honoured
        # without a display instead of silently switching to the device sign-in.
        ({"BROWSER": "w3m"}, "linux", True),
    ],
)
def test_browser_only_on_a_local_graphical_session(env, platform, expected) -> None:
    assert browser_possible(env, platform) is expected


def test_over_ssh_no_browser_opens_and_nothing_is_printed_for_the_provider_to_decide() -> None:
    # The provider prints the URL itself, or switches to the device sign-in: a URL printed
    # here would be dead the moment the loopback listener closes.
    out = io.StringIO()
    ui = TerminalSignInUI(
        stream=out, env={"SSH_CONNECTION": "x", "DISPLAY": ":0"}, platform="linux"
    )
    assert ui.open_url("https://idp.example.com/authorize?x=1") is False
    assert out.getvalue() == ""


def test_device_code_is_shown_large_with_a_qr_code() -> None:
    out = io.StringIO()
    ui = TerminalSignInUI(stream=out, env={}, platform="linux")
    ui.show_device_code(
        "https://idp.example.com/device", "WDJB-MJHT", "https://idp.example.com/device?c=1", 600
    )
    text = out.getvalue()
    assert "https://idp.example.com/device" in text
    assert "W  D  J  B  -  M  J  H  T" in text
    assert "QR code" in text
    assert any(block in text for block in "█▀▄")
    assert "10 minutes" in text
