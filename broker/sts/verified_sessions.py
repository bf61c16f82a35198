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
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from broker.errors import StsError
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
        self.capacity = capacity
        self._entries: dict[bytes, _Entry] = {}
        self._lock = threading.Lock()
        self.hits = 0

    def verify(
        self, ring: KeyRing, token: str, access_key_id: str, *, now: datetime | None = None
    ) -> tuple[SessionClaims, str]:
        """As ``verify_session``; the same errors for the same tokens."""
        now = now or datetime.now(UTC)
        digest = hashlib.sha256(token.encode()).digest()
        with self._lock:
            entry = self._entries.get(digest)
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
            self.hits += 1
            return entry.claims, entry.secret
        claims, secret = verify_session(ring, token, access_key_id, now=now)
        kid = _kid(token)
        with self._lock:
            if len(self._entries) >= self.capacity:
                self._evict(now)
            self._entries[digest] = _Entry(ring, kid, access_key_id, claims, secret)
        return claims, secret

    def _evict(self, now: datetime) -> None:
        for digest in [d for d, e in self._entries.items() if e.claims.expires_at <= now]:
            del self._entries[digest]
        while len(self._entries) >= self.capacity:
            del self._entries[next(iter(self._entries))]  # the oldest (insertion order)

    def __len__(self) -> int:
        return len(self._entries)


def _kid(token: str) -> str:
    """The ``kid`` of a token ``verify_session`` accepted (so the header is well formed)."""
    from jose import jwt

    return str(jwt.get_unverified_header(token)["kid"])
