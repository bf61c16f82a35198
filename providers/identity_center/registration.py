"""The broker's OIDC client registration at one Identity Center instance, kept in the keyring.

RegisterClient hands out a client id and a client secret valid for about 90 days; like the
AWS CLI, the broker registers once and reuses the registration until shortly before it ends,
but keeps it in the OS keyring (the provider's ``SecretStore``), never in ``~/.aws/sso/cache``.
The registration asks for the ``sso:account:access`` scope, which is what makes Identity
Center grant refresh tokens (the AWS CLI's ``sso-session`` registrations do the same).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from broker.errors import ProviderUnavailableError
from providers.base import SecretStore
from providers.identity_center.clients import error_code, error_text

__all__ = ["REFRESH_SCOPE", "Registration", "current", "forget", "registered"]

REFRESH_SCOPE = "sso:account:access"
_KEY = "identity-center:registration"
# Register again this long before the registration ends, so a sign-in never starts on one
# that runs out while the person is approving it.
_MARGIN_SECONDS = 86_400


@dataclass(frozen=True)
class Registration:
    """A registered public client. ``client_secret`` is a secret: never log or print it."""

    client_id: str
    client_secret: str = field(repr=False)
    expires_at: int


def _stored(secrets: SecretStore, start_url: str) -> Registration | None:
    text = secrets.get_secret(_KEY)
    if not text:
        return None
    try:
        data = json.loads(text)
        if data.get("start_url") != start_url:
            return None
        return Registration(
            str(data["client_id"]), str(data["client_secret"]), int(data["expires_at"])
        )
    except (ValueError, KeyError, TypeError):
        return None  # unreadable: register again


def current(secrets: SecretStore, start_url: str, now: float) -> Registration | None:
    """The stored registration for ``start_url`` while it is still valid, else None."""
    found = _stored(secrets, start_url)
    return found if found is not None and found.expires_at > now else None


def registered(
    oidc: Any, secrets: SecretStore, start_url: str, client_name: str, now: float
) -> Registration:
    """The stored registration while it has more than a day left, else a new one (stored).

    Raises:
        ProviderUnavailableError: Identity Center cannot be reached or refuses to register.
    """
    import botocore.exceptions

    found = _stored(secrets, start_url)
    if found is not None and found.expires_at - now > _MARGIN_SECONDS:
        return found
    try:
        answer = oidc.register_client(
            clientName=client_name, clientType="public", scopes=[REFRESH_SCOPE]
        )
    except botocore.exceptions.ClientError as exc:
        raise ProviderUnavailableError(
            f"IAM Identity Center refused to register the broker's client "
            f"({error_code(exc)}: {error_text(exc)}); check start_url and region"
        ) from None
    made = Registration(
        answer["clientId"], answer["clientSecret"], int(answer["clientSecretExpiresAt"])
    )
    secrets.set_secret(
        _KEY,
        json.dumps(
            {
                "start_url": start_url,
                "client_id": made.client_id,
                "client_secret": made.client_secret,
                "expires_at": made.expires_at,
            }
        ),
    )
    return made


def forget(secrets: SecretStore) -> None:
    """Drop the stored registration (Identity Center no longer knows it)."""
    secrets.set_secret(_KEY, "")
