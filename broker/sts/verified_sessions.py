"""Session tokens already verified, remembered by the SHA-256 of the token until they expire.

Why: every signed call with session credentials carries the same token, and verifying it
(ES256 signature, PEM key load, claims) costs more than the rest of a GetCallerIdentity. A hit
skips only that work and is as strict as a fresh check: the entry holds the key ring object it
was verified under (a reloaded ring after ``broker keys rotate`` misses), is bound to the access
key id, re-checks that the signing key may still verify at ``now``, and re-checks expiry, so
``ExpiredToken`` is told apart as before. Revocation is not cached: the caller checks it on
every request. Failures are never remembered. The cache is bounded; expired entries go first,
then the oldest.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from broker.errors import StsError
from broker.sts.expiring_cache import ExpiringCache
from broker.sts.session_token import SessionClaims, verify_session
from broker.sts.signing_keys import KeyRing

__all__ = ["VerifiedSessions"]


@dataclass(frozen=True)
class _Entry:
    ring: KeyRing
    kid: str
    access_key_id: str
    claims: SessionClaims
    secret: str


class VerifiedSessions:
    """``verify_session`` with a bounded memory of tokens that verified."""

    def __init__(self, capacity: int = 4096) -> None:
        self._cache: ExpiringCache[_Entry] = ExpiringCache(capacity)

    @property
    def capacity(self) -> int:
        return self._cache.capacity

    @property
    def hits(self) -> int:
        return self._cache.hits

    def verify(
        self, ring: KeyRing, token: str, access_key_id: str, *, now: datetime | None = None
    ) -> tuple[SessionClaims, str]:
        """As ``verify_session``; the same errors for the same tokens."""
        now = now or datetime.now(UTC)
        digest = hashlib.sha256(token.encode()).digest()
        entry = self._cache.get(digest)
        if (
            entry is not None
            and entry.ring is ring
            and entry.access_key_id == access_key_id
            and ring.verifying(entry.kid, now) is not None
        ):
            if now >= entry.claims.expires_at:
                raise StsError(
                    "The security token included in the request is expired", code="ExpiredToken"
                )
            self._cache.hits += 1
            return entry.claims, entry.secret
        claims, secret = verify_session(ring, token, access_key_id, now=now)
        entry = _Entry(ring, _kid(token), access_key_id, claims, secret)
        self._cache.put(digest, entry, claims.expires_at.timestamp(), now.timestamp())
        return claims, secret

    def __len__(self) -> int:
        return len(self._cache)


def _kid(token: str) -> str:
    """The ``kid`` of a token ``verify_session`` accepted (so the header is well formed)."""
    from jose import jwt

    return str(jwt.get_unverified_header(token)["kid"])
