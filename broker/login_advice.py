"""What to run to sign in again to one provider, as one clause: "run `broker login …`".

Why: headless paths (``credential-process``, the refresher, a mint from the terminal app) can
only say what to run. For most providers that is ``broker login NAME`` (an OIDC provider, IAM
Identity Center's device sign-in). A SAML provider with ``aws_federation = true`` has no
loopback sign-in (its IdP posts to AWS, see docs/configuration.md), so plain
``broker login NAME`` is refused there and the advice must name ``--saml-response`` instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from broker.config import BrokerConfig
from broker.config.schema import ConfigIssues

__all__ = [
    "LoginAdvice",
    "capture_login_advice",
    "login_advice",
    "login_advice_for",
    "plain_login_advice",
]

LoginAdvice = Callable[[str], str]


def plain_login_advice(provider: str) -> str:
    return f"run `broker login {provider}`"


def capture_login_advice(provider: str) -> str:
    """The clause for a capture-only SAML provider (``aws_federation = true``)."""
    return (
        f"run `broker login {provider} --saml-response -` and paste the SAMLResponse value "
        "captured on its way to AWS (or give a file instead of -)"
    )


def login_advice(provider: str, table: Mapping[str, Any] | None) -> str:
    """The clause for ``provider`` whose ``[providers.NAME]`` table is ``table``."""
    if table is not None and table.get("type") == "saml" and table.get("aws_federation") is True:
        return capture_login_advice(provider)
    return plain_login_advice(provider)


def login_advice_for(config: BrokerConfig) -> LoginAdvice:
    """``login_advice`` over ``config``'s providers (an unknown name gets the plain clause)."""
    from broker.config.providers import provider_tables

    try:
        tables = provider_tables(config)
    except ConfigIssues:  # reported, all at once, by whoever reads the tables to use them
        tables = {}

    def advice(provider: str) -> str:
        return login_advice(provider, tables.get(provider))

    return advice
