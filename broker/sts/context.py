"""What every STS operation works with, in one object: keys, directory, stores, clock.

The operations (``operations.py``, ``assume_role.py``, ``web_identity.py``,
``saml_assertion.py``) take one ``StsContext`` instead of a handful of positional arguments;
``broker serve`` (``StsService``) and the local minter each build one over the state they
opened. What an operation needs and the context lacks is refused, never guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from broker.errors import StsError
from broker.sts.mfa import MfaDevices
from broker.sts.principals import PrincipalSource, WebIdentityProvider
from broker.sts.session_policies import SessionPolicySource
from broker.sts.signing_keys import KeyRing, KeyRingSource
from broker.tokens.replay import ReplayCache

__all__ = ["IdTokenVerifier", "StsContext", "no_directory", "utc_now"]


class IdTokenVerifier(Protocol):
    """Verifies a web identity token under a provider entry's rules (``WebIdentityVerifier``)."""

    def verify(
        self, provider: WebIdentityProvider, client_id: str, token: str
    ) -> Mapping[str, Any]: ...


def no_directory(what: str) -> StsError:
    """Roles and their policies come from the directory; a broker serving without one has no
    role to grant, so it refuses as AWS refuses a role it cannot assume, saying what to set up."""
    return StsError(
        f"{what} needs roles from the directory and this broker has none: configure "
        "<config>/directory (docs/configuration.md) and restart `broker serve`",
        code="AccessDenied",
    )


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class StsContext:
    """The dependencies of the STS operations.

    Args:
        keys: the signing-key ring, or where the current one is read (re-read per call).
        principals: the directory's roles, users, policies and identity providers.
        session_policies: where session-policy texts are kept by digest.
        mfa: the STS's virtual MFA devices (GetSessionToken, AssumeRole).
        saml_replay_cache: SAML assertion ids already used (AssumeRoleWithSAML).
        web_identity: the ID-token verifier (AssumeRoleWithWebIdentity).
        clock: the current time; sessions are issued on whole seconds of it.
    """

    keys: KeyRing | KeyRingSource
    principals: PrincipalSource | None = None
    session_policies: SessionPolicySource | None = None
    mfa: MfaDevices | None = None
    saml_replay_cache: ReplayCache | None = None
    web_identity: IdTokenVerifier | None = None
    clock: Callable[[], datetime] = utc_now

    @property
    def ring(self) -> KeyRing:
        """The current key ring (re-read after `broker keys rotate` when given a source)."""
        return self.keys if isinstance(self.keys, KeyRing) else self.keys.current()

    def now(self) -> datetime:
        """The clock's time in UTC on a whole second, as sessions record it."""
        return self.clock().astimezone(UTC).replace(microsecond=0)

    def directory(self, action: str) -> tuple[PrincipalSource, SessionPolicySource]:
        """The directory and session-policy store ``action`` decides with, or ``AccessDenied``
        when this STS was started without a directory."""
        if self.principals is None or self.session_policies is None:
            raise no_directory(action)
        return self.principals, self.session_policies
