"""Session tokens: a compact JWS (RFC 7515) signed ES256 with python-jose, bound to its key id.

Pinned on both sides: the header must be exactly ``alg=ES256``, ``typ=broker-session+jwt`` and
a ``kid`` the key ring still trusts; the token must have three parts (JWE's five never parse),
each in canonical base64url, and a low-S signature: one spelling per token (``token_form``);
``iss``, ``sub``, ``iat``, ``exp``, ``jti`` and ``aki`` are required, and ``aki`` must equal the
access key id the request was signed with. Claims are short-named to keep tokens under 2 KB
(Windows Credential Manager holds 2,560 bytes).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from broker.errors import StsError
from broker.sts.credential_format import derive_secret
from broker.sts.signing_keys import KeyRing
from broker.sts.token_form import canonical_token, low_s_token

__all__ = [
    "ALGORITHM",
    "ISSUER",
    "MAX_TOKEN_BYTES",
    "TOKEN_TYPE",
    "SessionClaims",
    "policy_digest",
    "sign_session",
    "verify_session",
]

ALGORITHM = "ES256"
TOKEN_TYPE = "broker-session+jwt"  # noqa: S105 (a media type, not a secret)
ISSUER = "access-broker"
MAX_TOKEN_BYTES = 2048
_REQUIRED = ("iss", "sub", "iat", "exp", "jti", "aki", "acct", "knd")

SessionKind = Literal["assumed-role", "federated-user", "user-session"]


def policy_digest(policy_text: str | None) -> str | None:
    """SHA-256 (hex) of a session policy's text, or ``None`` without one."""
    if policy_text is None:
        return None
    return hashlib.sha256(policy_text.encode()).hexdigest()


@dataclass(frozen=True)
class SessionClaims:
    """What a session token asserts. No secrets.

    Args:
        kind: ``assumed-role`` (AssumeRole*), ``federated-user`` (GetFederationToken) or
            ``user-session`` (GetSessionToken).
        arn: the session's principal ARN (``arn:aws:sts::ACCT:assumed-role/ROLE/NAME`` ...).
        user: the directory user behind the session (or the web/SAML subject).
        role_arn: the role assumed, for ``assumed-role``.
        chained: the session came from AssumeRole called with role-session credentials.
        transitive_tag_keys: tag keys that follow the session into chained roles.
        source_identity: sticky across chaining once set.
    """

    kind: SessionKind
    access_key_id: str
    session_id: str
    arn: str
    account: str
    user: str
    issued_at: datetime
    expires_at: datetime
    role_arn: str | None = None
    session_name: str | None = None
    source_identity: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    transitive_tag_keys: tuple[str, ...] = ()
    policy_digest: str | None = None
    chained: bool = False
    mfa: bool = False

    def to_claims(self) -> dict[str, Any]:
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "sub": self.arn,
            "iat": int(self.issued_at.timestamp()),
            "exp": int(self.expires_at.timestamp()),
            "jti": self.session_id,
            "aki": self.access_key_id,
            "acct": self.account,
            "knd": self.kind,
            "usr": self.user,
        }
        optional: dict[str, Any] = {
            "rol": self.role_arn,
            "snm": self.session_name,
            "sid": self.source_identity,
            "tag": dict(self.tags) or None,
            "ttk": list(self.transitive_tag_keys) or None,
            "pol": self.policy_digest,
            "chn": self.chained or None,
            "mfa": self.mfa or None,
        }
        claims.update({k: v for k, v in optional.items() if v is not None})
        return claims

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> SessionClaims:
        kind = claims["knd"]
        if kind not in ("assumed-role", "federated-user", "user-session"):
            raise ValueError("unknown session kind")
        return cls(
            kind=kind,
            access_key_id=str(claims["aki"]),
            session_id=str(claims["jti"]),
            arn=str(claims["sub"]),
            account=str(claims["acct"]),
            user=str(claims.get("usr", "")),
            issued_at=datetime.fromtimestamp(int(claims["iat"]), UTC),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
            role_arn=claims.get("rol"),
            session_name=claims.get("snm"),
            source_identity=claims.get("sid"),
            tags={str(k): str(v) for k, v in (claims.get("tag") or {}).items()},
            transitive_tag_keys=tuple(claims.get("ttk") or ()),
            policy_digest=claims.get("pol"),
            chained=bool(claims.get("chn", False)),
            mfa=bool(claims.get("mfa", False)),
        )


def sign_session(ring: KeyRing, claims: SessionClaims) -> tuple[str, str]:
    """Sign ``claims`` with the active key; return ``(session_token, secret_access_key)``."""
    from jose import jwt

    key = ring.active
    token: str = jwt.encode(
        claims.to_claims(),
        _jose_key(key.private_pem),
        algorithm=ALGORITHM,
        headers={"kid": key.kid, "typ": TOKEN_TYPE},
    )
    token = low_s_token(token)  # the one spelling ``verify_session`` accepts
    if len(token) > MAX_TOKEN_BYTES:
        raise StsError(
            "The session's tags and attributes make a token larger than 2 KB; send fewer tags.",
            code="PackedPolicyTooLarge",
        )
    secret = derive_secret(key.derivation, "session", claims.access_key_id, claims.session_id)
    return token, secret


@functools.lru_cache(maxsize=32)
def _jose_key(pem: str) -> Any:
    """python-jose's key object for a PEM, built once: parsing the PEM on every call cost more
    than the ES256 operation itself. Pinned to ES256 as every use of it is."""
    from jose import jwk

    return jwk.construct(pem, ALGORITHM)


def _invalid() -> StsError:
    return StsError(
        "The security token included in the request is invalid.", code="InvalidClientTokenId"
    )


def verify_session(
    ring: KeyRing, token: str, access_key_id: str, *, now: datetime | None = None
) -> tuple[SessionClaims, str]:
    """Verify ``token`` for ``access_key_id``; return its claims and its secret.

    Raises:
        StsError: ``InvalidClientTokenId`` (malformed, wrong key, signature, binding) or
            ``ExpiredToken`` (past ``exp``).
    """
    from jose import jwt
    from jose.exceptions import JOSEError

    now = now or datetime.now(UTC)
    if len(token) > MAX_TOKEN_BYTES or not canonical_token(token):
        raise _invalid()
    try:
        header = jwt.get_unverified_header(token)
    except JOSEError:
        raise _invalid() from None
    if set(header) != {"alg", "typ", "kid"} or header.get("alg") != ALGORITHM:
        raise _invalid()
    if header.get("typ") != TOKEN_TYPE or not isinstance(header.get("kid"), str):
        raise _invalid()
    key = ring.verifying(header["kid"], now)
    if key is None:
        raise _invalid()
    try:
        raw = jwt.decode(
            token,
            _jose_key(key.public_pem),
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={
                "verify_aud": False,
                # exp is checked below against the caller's clock (``now``), so ExpiredToken
                # is told apart from a bad token; jose's require_exp would force its own check.
                "verify_exp": False,
                **{f"require_{name}": True for name in ("iat", "iss", "sub", "jti")},
            },
        )
    except JOSEError:
        raise _invalid() from None
    if any(name not in raw for name in _REQUIRED) or raw["aki"] != access_key_id:
        raise _invalid()
    try:
        claims = SessionClaims.from_claims(raw)
    except (KeyError, TypeError, ValueError):
        raise _invalid() from None
    if now.timestamp() >= claims.expires_at.timestamp():
        raise StsError("The security token included in the request is expired", code="ExpiredToken")
    secret = derive_secret(key.derivation, "session", claims.access_key_id, claims.session_id)
    return claims, secret
