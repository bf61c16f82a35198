"""Credentials as environment variables, for ``exec`` and ``env --format``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC

from broker.minters.base import Credentials

__all__ = ["FORMATS", "credential_env", "render_env"]

FORMATS = ("sh", "fish", "powershell", "json")

# Variables that would make an SDK prefer other credentials over ours.
SHADOWING = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SECURITY_TOKEN")


def credential_env(credentials: Credentials, region: str | None) -> dict[str, str]:
    """The variables the AWS CLI and SDKs read, in a stable order."""
    env = {
        "AWS_ACCESS_KEY_ID": credentials.access_key_id,
        "AWS_SECRET_ACCESS_KEY": credentials.secret_access_key,
        "AWS_SESSION_TOKEN": credentials.session_token,
        "AWS_CREDENTIAL_EXPIRATION": credentials.expiration.astimezone(UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        ),
    }
    if region:
        env["AWS_REGION"] = region
        env["AWS_DEFAULT_REGION"] = region
    return env


def _sh(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def _fish(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _powershell(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def render_env(env: Mapping[str, str], fmt: str) -> str:
    """``env`` as text for ``fmt`` (one of ``FORMATS``), quoted so any value is safe."""
    if fmt == "json":
        return json.dumps(dict(env), indent=2) + "\n"
    lines: list[str] = []
    for name, value in env.items():
        if fmt == "sh":
            lines.append(f"export {name}={_sh(value)}")
        elif fmt == "fish":
            lines.append(f"set -gx {name} {_fish(value)}")
        elif fmt == "powershell":
            lines.append(f"$Env:{name} = {_powershell(value)}")
        else:
            raise ValueError(fmt)
    return "\n".join(lines) + "\n"
