"""The AWS console sign-in URL for a profile's session, headlessly (``broker console`` and the
TUI's ``o`` both call this).

The profile's credentials come through the credential chain (cache, refresh under the profile's
lock), then ``broker.minters.console.signin_url`` trades them at the federation endpoint. Only
sessions from the upstream ``aws`` minter, the federation minters (``aws-saml``,
``aws-web-identity``) and ``aws-identity-center`` are real AWS sessions: the local broker's STS
issues credentials AWS has never seen, so there is no console for them and we say so before
asking.

The URL is a bearer secret for 15 minutes: it is returned, never logged or written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from broker.config import BrokerConfig
from broker.errors import UsageError
from broker.minters.base import Credentials

if TYPE_CHECKING:
    from broker.minters.console import ConsoleRequest
    from broker.sts.state_handle import StateHandle

__all__ = ["ConsoleTarget", "NoConsoleError", "console_url", "console_url_for"]

#: Minters whose sessions are real AWS sessions (the federation endpoint takes any of them).
CONSOLE_MINTERS = frozenset({"aws", "aws-saml", "aws-web-identity", "aws-identity-center"})

NO_CONSOLE = (
    "sessions minted by the local broker have no AWS console; use the aws minter, see "
    "docs/configuration.md"
)


class NoConsoleError(UsageError):
    """The profile's minter cannot make a console URL (the local broker's sessions)."""


@dataclass(frozen=True)
class ConsoleTarget:
    """Where the console should land, and for how long (``None``: the configured defaults)."""

    destination: str | None = None
    duration: int | None = None


def console_url_for(
    credentials: Credentials, config: BrokerConfig, target: ConsoleTarget = ConsoleTarget()
) -> str:
    """The sign-in URL for ``credentials`` (already known to be an aws-minter session).

    Raises:
        ConfigError: ``[minters.aws]`` is invalid or the federation endpoint is not HTTPS.
        StsError: the federation endpoint refused the session or cannot be reached.
    """
    return _signin(credentials, _request(config, target))


def _request(config: BrokerConfig, target: ConsoleTarget) -> ConsoleRequest:
    from broker.minters.aws_settings import load_aws_settings
    from broker.minters.console import ConsoleRequest

    settings = load_aws_settings(config)
    return ConsoleRequest(
        federation_url=settings.federation_url,
        destination=target.destination or settings.console_url,
        issuer=settings.issuer,
        session_duration=target.duration,
    )


def _signin(credentials: Credentials, request: ConsoleRequest) -> str:
    from broker.minters.console import signin_url

    return signin_url(credentials, request)


def console_url(
    profile_name: str,
    target: ConsoleTarget = ConsoleTarget(),
    *,
    state: StateHandle,
    config_dir: Path | None = None,
) -> str:
    """The console sign-in URL for ``profile_name``'s session (a ``[profiles]`` table or a
    recorded assignment profile), refreshing its credentials first if they run low.

    Raises:
        NoConsoleError: the profile is minted by the local broker, which has no AWS console.
        ConfigError: no such profile; ``[minters.aws]`` invalid.
        ReauthenticationRequired: the sign-in behind the profile has ended.
        StsError: AWS refused the session or the federation endpoint cannot be reached.
    """
    from broker.client.assignment_profiles import resolve_profile, state_directory
    from broker.client.wiring import close_chain, open_chain

    config, chain = open_chain(config_dir=config_dir, state=state)
    try:
        profile = resolve_profile(config, chain.store, profile_name, state_directory(config, state))
        if profile.minter not in CONSOLE_MINTERS:
            raise NoConsoleError(f"{profile_name}: {NO_CONSOLE}")
        request = _request(config, target)  # a broken [minters.aws] fails before any mint
        credentials = chain.credentials(profile)
    finally:
        close_chain(chain)
    return _signin(credentials, request)
