"""What an ``aws-identity-center`` provider's signed-in person holds, for the front ends.

The stored session comes through the credential chain (refreshed headlessly first when it
has ended and Identity Center granted a refresh token; otherwise "run `broker login`").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from broker.errors import ConfigError
from providers.identity_center.portal import HeldRole, held_roles

if TYPE_CHECKING:
    from broker.client.chain import Chain
    from broker.config import BrokerConfig

__all__ = ["portal_lister", "portal_roles"]


def portal_roles(config: BrokerConfig, chain: Chain, provider: str) -> list[HeldRole]:
    """The roles the person signed in to ``provider`` holds, as Identity Center lists them.

    Raises:
        ConfigError: ``provider`` is not an ``aws-identity-center`` provider.
        ReauthenticationRequired: not signed in, or the session cannot be renewed.
        ProviderUnavailableError: Identity Center cannot be reached.
    """
    from broker.minters.aws_identity_center import identity_center_providers
    from providers.identity_center.clients import make_client

    settings = identity_center_providers(config).get(provider)
    if settings is None:
        raise ConfigError(
            f"provider {provider!r} is not of type aws-identity-center; its assignments come "
            "from the directory (`broker assignments --user NAME`)"
        )
    identity = chain.identity(provider)
    assert identity.access_token is not None  # the provider always returns one
    return held_roles(make_client(settings, "sso"), identity.access_token, provider)


def portal_lister(config: BrokerConfig, chain: Chain) -> Callable[[str], list[HeldRole] | None]:
    """For ``configure aws``: a provider's held roles when it is an ``aws-identity-center``
    provider, else None (its assignments come from the directory)."""
    from broker.minters.aws_identity_center import identity_center_providers

    kinds = identity_center_providers(config)

    def listed(provider: str) -> list[HeldRole] | None:
        return portal_roles(config, chain, provider) if provider in kinds else None

    return listed
