"""How to sign in again to one provider, as one clause, worded for each front end.

Why one module: a refusal whose fix is a new sign-in ("the corp session has ended") reaches the
command line and the terminal app alike, and each must name what works there. The command line
and the headless paths (``credential-process``, the refresher) can only say what to run; the
terminal app names its key (``s``, which opens that provider's sign-in, docs/tui.md). Every
raise site takes its advice from here (a ``SignInAgain``: the command line's clause, with the
terminal app's beside it), so the two never drift and no screen words its own.

The words depend on the provider's kind. Most providers (OIDC, SAML posting to our loopback
ACS, IAM Identity Center's device sign-in) sign in with ``broker login NAME``. A SAML provider
with ``aws_federation = true`` has no loopback sign-in (its IdP posts to AWS, see
docs/configuration.md): plain ``broker login NAME`` is refused there, so the advice names
``--saml-response`` on the command line and the paste field in the terminal app.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from broker.config.schema import ConfigIssues
from broker.errors import SignInAgain

if TYPE_CHECKING:
    from broker.config import BrokerConfig

__all__ = [
    "TUI_SIGN_IN_KEY",
    "LoginAdvice",
    "capture_login_advice",
    "is_captured",
    "login_advice",
    "login_advice_for",
    "plain_login_advice",
]

TUI_SIGN_IN_KEY = "s"
"""The terminal app's key that opens the sign-in an error names (``broker.tui``)."""

LoginAdvice = Callable[[str], SignInAgain]


def plain_login_advice(provider: str, *, again: bool = False) -> SignInAgain:
    """The clause for a provider that signs in with ``broker login NAME`` (``again``: said
    after a sign-in that just failed, "run `broker login NAME` again")."""
    return SignInAgain(
        f"run `broker login {provider}`" + (" again" if again else ""),
        provider=provider,
        tui=f"press {TUI_SIGN_IN_KEY} to sign in to {provider} again",
    )


def capture_login_advice(provider: str) -> SignInAgain:
    """The clause for a capture-only SAML provider (``aws_federation = true``)."""
    return SignInAgain(
        f"run `broker login {provider} --saml-response -` and paste the SAMLResponse value "
        "captured on its way to AWS (or give a file instead of -)",
        provider=provider,
        tui=(
            f"press {TUI_SIGN_IN_KEY} and paste a new SAMLResponse for {provider} (captured on "
            "its way to AWS)"
        ),
    )


def is_captured(table: Mapping[str, Any] | None) -> bool:
    """Whether a ``[providers.NAME]`` table is a capture-only SAML provider."""
    return table is not None and table.get("type") == "saml" and table.get("aws_federation") is True


def login_advice(provider: str, table: Mapping[str, Any] | None) -> SignInAgain:
    """The clause for ``provider`` whose ``[providers.NAME]`` table is ``table``."""
    if is_captured(table):
        return capture_login_advice(provider)
    return plain_login_advice(provider)


def login_advice_for(config: BrokerConfig) -> LoginAdvice:
    """``login_advice`` over ``config``'s providers (an unknown name gets the plain clause)."""
    from broker.config.providers import provider_tables

    try:
        tables = provider_tables(config)
    except ConfigIssues:  # reported, all at once, by whoever reads the tables to use them
        tables = {}

    def advice(provider: str) -> SignInAgain:
        return login_advice(provider, tables.get(provider))

    return advice
