"""Copy-ready text for minted credentials (docs/tui.md §5), per shell, like the access portal's
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


_FORMAT = {"BASH": "sh", "FISH": "fish", "POWERSHELL": "powershell"}


def env_exports(creds: Credentials, shell: Shell, *, masked: bool = False) -> str:
    """Environment assignments for ``shell``, one per line, quoted for that shell.

    The variables and quoting are the client's (``broker env``), so the TUI and the command
    line hand out exactly the same text; masking replaces the two secrets.
    """
    from broker.client.exports import credential_env, render_env

    env = credential_env(creds, None)
    if masked:
        env["AWS_SECRET_ACCESS_KEY"] = MASK
        env["AWS_SESSION_TOKEN"] = MASK
    return render_env(env, _FORMAT[shell.name]).rstrip("\n")


def credential_process_profile(
    profile: str, region: str | None = None, *, command: str | None = None
) -> str:
    """An ``~/.aws/config`` profile that asks the broker for credentials (recommended: no
    secret is ever written to a file, and the SDK refreshes through the broker).

    ``command`` runs the broker (shell-quoted); by default the running one's absolute path,
    as ``broker configure aws`` writes it, so the line does not depend on the caller's PATH.
    """
    if command is None:
        from broker.client.executable import running_broker_command

        command = running_broker_command()
    lines = [
        f"[profile {profile}]",
        f"credential_process = {command} credential-process --profile {shlex.quote(profile)}",
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
