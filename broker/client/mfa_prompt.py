"""Asking for a TOTP code on the terminal, for profiles with ``mfa_serial``.

The code is read from ``/dev/tty``, not stdin/stderr: the AWS CLI runs ``credential_process``
with its output captured, so a prompt there would be invisible, while the person at the
terminal can still answer through ``/dev/tty``. Without a terminal (a cron job, an IDE, a
container) nothing can be asked: the error says to run ``broker exec`` once in a terminal, after
which the cached credentials are served without a code until they near expiry.
"""

from __future__ import annotations

from broker.client.profiles import Profile
from broker.errors import ReauthenticationRequired, UsageError

__all__ = ["TTY", "no_mfa_prompt", "terminal_mfa_code"]

TTY = "/dev/tty"
_ATTEMPTS = 3


def _needs_terminal(profile: Profile, why: str) -> ReauthenticationRequired:
    return ReauthenticationRequired(
        f"profile {profile.name} needs an MFA code and {why}: run `broker exec "
        f"{profile.name} -- true` in a terminal first (after `broker login` if signed out); "
        "its credentials are then cached and served here"
    )


def no_mfa_prompt(profile: Profile) -> str:
    """For front ends that must not prompt (the terminal app, ``refresh``, endpoints).

    Raises:
        ReauthenticationRequired: always, naming the command that asks.
    """
    raise _needs_terminal(profile, "this command does not ask for one")


def terminal_mfa_code(profile: Profile, tty_path: str = TTY) -> str:
    """A 6-digit code typed at the terminal (three tries).

    Raises:
        ReauthenticationRequired: there is no terminal to ask at.
        UsageError: three answers that were not 6 digits.
    """
    import os

    try:
        fd = os.open(tty_path, os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError:
        raise _needs_terminal(profile, "there is no terminal to ask for it") from None
    try:
        for _ in range(_ATTEMPTS):
            os.write(fd, f"MFA code for {profile.mfa_serial} (profile {profile.name}): ".encode())
            code = _read_line(fd).strip()
            if len(code) == 6 and code.isascii() and code.isdigit():
                return code
            os.write(fd, b"an MFA code is 6 digits\n")
    finally:
        os.close(fd)
    raise UsageError(f"profile {profile.name}: no valid MFA code was given")


def _read_line(fd: int) -> str:
    """One line from the terminal (a terminal in canonical mode hands over whole lines)."""
    import os

    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(fd, 64)
        if not chunk:
            break
        data += chunk
        if len(data) > 256:
            break
    return data.decode("utf-8", "replace")
