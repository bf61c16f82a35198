"""The broker's session-token keys: ES256 signing keys with rotation, plus derivation secrets.

Each key has a ``kid``, an EC P-256 private key (signs session tokens; the algorithm is pinned
to ES256) and a 256-bit derivation secret (derives the secret access key of every session the
key signed). ``rotate`` adds a key that signs from then on; older keys keep verifying until
the longest session they could have signed (36 h) has expired, then ``prune`` drops them.
Long-term user keys derive from one separate secret that rotation does not touch.

Keys live in the state database (``broker.sts.key_ring_db.DatabaseKeyRing`` over
``broker.storage.key_set``), shared by every replica and every front end.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from broker.errors import ConfigError

__all__ = [
    "KEY_LIFETIME_AFTER_RETIRE",
    "KeyRing",
    "KeyRingSource",
    "SigningKey",
    "generate_key",
]

# The longest session any key can sign (GetSessionToken/GetFederationToken: 36 h).
KEY_LIFETIME_AFTER_RETIRE = timedelta(seconds=129_600)


@dataclass(frozen=True)
class SigningKey:
    """One key: signs while active, verifies until ``retired + 36 h``."""

    kid: str
    created: datetime
    retired: datetime | None
    private_pem: str = field(repr=False)
    public_pem: str
    derivation: bytes = field(repr=False)

    def status(self, now: datetime) -> str:
        """``active``, ``verifying`` (retired, tokens may live) or ``expired``."""
        if self.retired is None:
            return "active"
        return "verifying" if now < self.retired + KEY_LIFETIME_AFTER_RETIRE else "expired"

    def to_json(self) -> dict[str, Any]:
        return {
            "kid": self.kid,
            "created": self.created.isoformat(),
            "retired": self.retired.isoformat() if self.retired else None,
            "private_pem": self.private_pem,
            "public_pem": self.public_pem,
            "derivation": base64.b64encode(self.derivation).decode(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SigningKey:
        return cls(
            kid=data["kid"],
            created=datetime.fromisoformat(data["created"]),
            retired=datetime.fromisoformat(data["retired"]) if data["retired"] else None,
            private_pem=data["private_pem"],
            public_pem=data["public_pem"],
            derivation=base64.b64decode(data["derivation"]),
        )


def generate_key(now: datetime) -> SigningKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    private = ec.generate_private_key(ec.SECP256R1())
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return SigningKey(
        kid=now.strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(4),
        created=now,
        retired=None,
        private_pem=private_pem,
        public_pem=public_pem,
        derivation=secrets.token_bytes(32),
    )


@dataclass(frozen=True)
class KeyRing:
    """All keys that sign or still verify, plus the long-term user-key derivation secret."""

    keys: tuple[SigningKey, ...]
    user_key_secret: bytes = field(repr=False)

    @property
    def active(self) -> SigningKey:
        """The one key that signs new tokens."""
        for key in self.keys:
            if key.retired is None:
                return key
        raise ConfigError("no active session-token signing key; run `broker keys rotate`")

    @classmethod
    def generate(cls, now: datetime | None = None) -> KeyRing:
        """A new ring of one active key and a new user-key secret (not stored anywhere)."""
        return cls((generate_key(now or datetime.now(UTC)),), secrets.token_bytes(32))

    def verifying(self, kid: str, now: datetime) -> SigningKey | None:
        """The key named ``kid`` if it may still verify tokens at ``now``."""
        for key in self.keys:
            if key.kid == kid and key.status(now) != "expired":
                return key
        return None


class KeyRingSource(Protocol):
    """Where a long-running service reads the current ring (``DatabaseKeyRing``): a rotation
    through any front end or replica is seen by every other."""

    def current(self) -> KeyRing: ...
