"""The minter seam: where session credentials come from (``local`` STS or upstream ``aws``).

A minter turns a verified sign-in plus a chosen assignment into credentials. It applies STS's
rules (trust, duration, MFA) before issuing, and raises ``StsError`` with STS's own code when it
refuses. Every minter is used the same way by the store, ``credential-process``, ``exec``, the
refresher and the TUI.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from providers.base import SignInResult

__all__ = ["Credentials", "MintRequest", "Minter"]


@dataclass(frozen=True)
class Credentials:
    """A session: all three parts are needed to sign (SigV4). Never log or print ``repr``."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expiration: datetime

    def seconds_left(self, now: datetime | None = None) -> float:
        """Seconds until expiry (negative once expired)."""
        return (self.expiration - (now or datetime.now(UTC))).total_seconds()

    def to_process_json(self) -> dict[str, str | int]:
        """AWS's ``credential_process`` Version 1 document (``Expiration`` RFC 3339 with ``Z``)."""
        return {
            "Version": 1,
            "AccessKeyId": self.access_key_id,
            "SecretAccessKey": self.secret_access_key,
            "SessionToken": self.session_token,
            "Expiration": self.expiration.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }


@dataclass(frozen=True)
class MintRequest:
    """What to mint.

    Args:
        account_id: the 12-digit account of the role.
        role_name: the role (for Identity Center assignments, the ``AWSReservedSSO_…`` role).
        duration_seconds: requested lifetime; out of range is refused, never clamped.
        session_name: RoleSessionName (defaults to the user's name).
        session_policy: an optional inline session policy (JSON text).
        reason: why, recorded in the audit log (required where policy says).
    """

    account_id: str
    role_name: str
    duration_seconds: int = 3600
    session_name: str | None = None
    session_policy: str | None = None
    reason: str | None = None


class Minter(Protocol):
    """Issues credentials for a signed-in identity."""

    name: str

    def mint(self, identity: SignInResult, request: MintRequest) -> Credentials:
        """Mint credentials for ``identity`` in ``request.role_name`` of ``request.account_id``.

        Raises:
            StsError: refused (``AccessDenied``, ``ValidationError`` for a bad duration,
                ``ExpiredToken`` when the sign-in is too old ...), with STS's code in ``code``.
            AuditError: the audit log cannot be written; nothing was issued.
        """
        ...
