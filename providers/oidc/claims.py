"""Turning verified OIDC claims (ID token, then userinfo) into the broker's ``Claims``.

OIDC Core §5.3.2: userinfo claims are only used when their ``sub`` equals the ID token's;
where both carry a claim, the signed ID token wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from providers.base import Claims
from providers.oidc.settings import OIDCSettings

__all__ = ["build_claims"]

_NOT_ATTRIBUTES = frozenset({"nonce", "at_hash", "c_hash", "aud", "azp", "exp", "iat", "nbf"})


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(item for item in value if isinstance(item, str))
    return ()


def _attribute(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, bool):
        return ("true" if value else "false",)
    if isinstance(value, int | float | str):
        return (str(value),)
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return tuple(str(v) for v in value)
    return None


def build_claims(
    provider: str,
    settings: OIDCSettings,
    verified: Mapping[str, Any],
    now: datetime,
    session_seconds: int | None = None,
) -> Claims:
    """The broker's view of one verified sign-in.

    Args:
        provider: the provider's configured name.
        settings: its settings (groups claim, MFA values).
        verified: ID token claims merged over userinfo claims.
        now: the time of sign-in.
        session_seconds: how long the IdP says the session (refresh token) lasts, if it says.
    """
    amr = _strings(verified.get("amr"))
    acr = verified.get("acr") if isinstance(verified.get("acr"), str) else None
    auth_time = verified.get("auth_time")
    when = (
        datetime.fromtimestamp(auth_time, UTC)
        if isinstance(auth_time, int | float) and not isinstance(auth_time, bool)
        else None
    )
    attributes: dict[str, tuple[str, ...]] = {}
    for key, value in verified.items():
        if key in _NOT_ATTRIBUTES:
            continue
        converted = _attribute(value)
        if converted is not None:
            attributes[key] = converted
    email = verified.get("email")
    name = verified.get("name")
    return Claims(
        provider=provider,
        issuer=str(verified["iss"]),
        subject=str(verified["sub"]),
        email=email if isinstance(email, str) else None,
        name=name if isinstance(name, str) else None,
        groups=_strings(verified.get(settings.groups_claim)),
        amr=amr,
        acr=acr,
        mfa=bool(set(amr) & set(settings.mfa_amr)) or (acr is not None and acr in settings.mfa_acr),
        auth_time=when,
        session_not_on_or_after=(
            now + timedelta(seconds=session_seconds) if session_seconds else None
        ),
        attributes=attributes,
    )
