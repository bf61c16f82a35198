"""Who signed a request: a directory user's long-term key, or a session the broker minted.

``Authenticator.secret_for`` is the lookup SigV4 verification calls: long-term keys (``BRKU``)
must be Active and come without a security token; session keys (``BRKS``) must come with the
token they are bound to, which must verify under a trusted signing key and not be expired.
Revocation is checked after the signature (``check_not_revoked``), so an unsigned request learns
nothing about which sessions are revoked.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from broker.errors import StsError
from broker.sts.access_keys import AccessKey, AccessKeyStore
from broker.sts.credential_format import SESSION_PREFIX, USER_KEY_PREFIX
from broker.sts.revocation import RevocationSource
from broker.sts.session_token import SessionClaims
from broker.sts.signing_keys import KeyRing
from broker.sts.verified_sessions import VerifiedSessions

__all__ = ["Authenticator", "Caller", "stable_id"]

_INVALID = "The security token included in the request is invalid."


@functools.lru_cache(maxsize=1024)
def stable_id(prefix: str, text: str) -> str:
    """A 21-character unique id (like IAM's ``AIDA…``/``AROA…``) stable for ``text``."""
    digest = hashlib.sha256(text.encode()).digest()
    return prefix + base64.b32encode(digest).decode()[:17]


@dataclass(frozen=True)
class Caller:
    """The authenticated principal behind a request."""

    arn: str
    account: str
    user_id: str
    user: str
    access_key_id: str
    key: AccessKey | None = None
    session: SessionClaims | None = None

    @property
    def is_session(self) -> bool:
        return self.session is not None

    def user_identity(self) -> dict[str, Any]:
        """CloudTrail's ``userIdentity`` for this caller (no secrets)."""
        identity: dict[str, Any] = {
            "principalId": self.user_id,
            "arn": self.arn,
            "accountId": self.account,
            "accessKeyId": self.access_key_id,
            "brokerUser": self.user,
        }
        session = self.session
        if session is None:
            return {"type": "IAMUser", "userName": self.user, **identity}
        kind = {"assumed-role": "AssumedRole", "federated-user": "FederatedUser"}
        context: dict[str, Any] = {
            "attributes": {
                "creationDate": session.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "mfaAuthenticated": str(session.mfa).lower(),
            },
            "sessionId": session.session_id,
        }
        if session.role_arn:
            context["sessionIssuer"] = {
                "type": "Role",
                "arn": session.role_arn,
                "accountId": session.account,
                "userName": session.role_arn.rsplit("/", 1)[-1],
            }
        if session.source_identity:
            context["sourceIdentity"] = session.source_identity
        return {"type": kind.get(session.kind, "IAMUser"), **identity, "sessionContext": context}


class Authenticator:
    """Resolves access key ids (and tokens) to secrets and callers, statelessly."""

    def __init__(
        self, ring: Callable[[], KeyRing], keys: AccessKeyStore, revocations: RevocationSource
    ) -> None:
        self.ring = ring
        self.keys = keys
        self.revocations = revocations
        self.sessions = VerifiedSessions()

    def secret_for(self, access_key_id: str, token: str | None) -> tuple[str, Caller]:
        if access_key_id.startswith(USER_KEY_PREFIX):
            return self._user_key(access_key_id, token)
        if access_key_id.startswith(SESSION_PREFIX) and token:
            return self._session(access_key_id, token)
        raise StsError(_INVALID, code="InvalidClientTokenId")

    def _user_key(self, access_key_id: str, token: str | None) -> tuple[str, Caller]:
        key = self.keys.get(access_key_id)
        if key is None or key.status != "Active" or token:
            raise StsError(_INVALID, code="InvalidClientTokenId")
        caller = Caller(
            arn=key.user_arn,
            account=key.account,
            user_id=stable_id("BRKI", key.user_arn),
            user=key.user,
            access_key_id=access_key_id,
            key=key,
        )
        return self.keys.secret_of(key), caller

    def _session(self, access_key_id: str, token: str) -> tuple[str, Caller]:
        claims, secret = self.sessions.verify(self.ring(), token, access_key_id)
        if claims.kind == "assumed-role" and claims.role_arn:
            user_id = f"{stable_id('BRKR', claims.role_arn)}:{claims.session_name}"
        elif claims.kind == "federated-user":
            user_id = f"{claims.account}:{claims.session_name}"
        else:
            user_id = stable_id("BRKI", claims.arn)
        caller = Caller(
            arn=claims.arn,
            account=claims.account,
            user_id=user_id,
            user=claims.user,
            access_key_id=access_key_id,
            session=claims,
        )
        return secret, caller

    def check_not_revoked(self, caller: Caller, now: datetime | None = None) -> None:
        """``AccessDenied`` when the caller's session was revoked (or has just expired)."""
        session = caller.session
        if session is None:
            return
        if session.expires_at <= (now or datetime.now(UTC)):
            raise StsError(
                "The security token included in the request is expired", code="ExpiredToken"
            )
        if self.revocations.is_revoked(session):
            raise StsError(
                f"The session {session.session_id} was revoked; request new credentials.",
                code="AccessDenied",
            )
