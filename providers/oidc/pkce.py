"""RFC 7636 Proof Key for Code Exchange, S256 only (the ``plain`` method is never used)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from authlib.oauth2.rfc7636 import create_s256_code_challenge

__all__ = ["Pkce"]


@dataclass(frozen=True)
class Pkce:
    """A fresh verifier (RFC 7636 §4.1: 43–128 unreserved characters) and its S256 challenge."""

    verifier: str = field(repr=False)
    challenge: str
    method: str = "S256"

    @classmethod
    def create(cls) -> Pkce:
        """A new pair; 48 random bytes give a 64-character verifier (384 bits)."""
        verifier = secrets.token_urlsafe(48)
        return cls(verifier=verifier, challenge=create_s256_code_challenge(verifier))
