"""Copy-ready text for minted credentials (TUI.md §5), per shell, like the access portal's
"Command line or programmatic access" panel. Pure functions; the screen masks secrets until
``v`` and copies the unmasked text.
"""

from __future__ import annotations

import enum
import shlex

from broker.minters.base import Credentials

__all__ = ["MASK", "Shell", "credential_process_profile", "env_exports", "single_values"]

MASK = "••••••••"


class Shell(enum.Enum):
    BASH = "bash/zsh"
    FISH = "fish"
    POWERSHELL = "PowerShell"


def _pairs(creds: Credentials, masked: bool) -> list[tuple[str, str]]:
    secret = MASK if masked else creds.secret_access_key
    token = MASK if masked else creds.session_token
    return [
        ("AWS_ACCESS_KEY_ID", creds.access_key_id),
        ("AWS_SECRET_ACCESS_KEY", secret),
        ("AWS_SESSION_TOKEN", token),
        ("AWS_CREDENTIAL_EXPIRATION", str(creds.to_process_json()["Expiration"])),
    ]


def _powershell_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _fish_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def env_exports(creds: Credentials, shell: Shell, *, masked: bool = False) -> str:
    """Environment assignments for ``shell``, one per line, safely quoted."""
    lines = []
    for name, value in _pairs(creds, masked):
        if shell is Shell.BASH:
            lines.append(f"export {name}={shlex.quote(value)}")
        elif shell is Shell.FISH:
            lines.append(f"set -gx {name} {_fish_quote(value)}")
        else:
            lines.append(f"$Env:{name} = {_powershell_quote(value)}")
    return "\n".join(lines)


def credential_process_profile(profile: str, region: str | None = None) -> str:
    """An ``~/.aws/config`` profile that asks the broker for credentials (recommended: no
    secret is ever written to a file, and the SDK refreshes through the broker)."""
    lines = [
        f"[profile {profile}]",
        f"credential_process = broker credential-process --profile {shlex.quote(profile)}",
    ]
    if region:
        lines.append(f"region = {region}")
    return "\n".join(lines)


def single_values(creds: Credentials, *, masked: bool = False) -> list[tuple[str, str]]:
    """Each value on its own, for pasting into a form."""
    return [
        ("Access key id", creds.access_key_id),
        ("Secret access key", MASK if masked else creds.secret_access_key),
        ("Session token", MASK if masked else creds.session_token),
    ]
