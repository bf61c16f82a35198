"""The shape of minted credentials: access key ids, secrets, and their stateless derivation.

Access key ids are 20 characters: a 4-character prefix that is the broker's own (AWS's ``AKIA``
and ``ASIA`` say "AWS issued this"; we do not claim that) and 16 characters from a CSPRNG in
AWS's alphabet (A–Z, 2–7: 80 bits). Secrets are 40 characters of base64 over 30 random-looking
bytes (240 bits).

Secrets are never stored. They are an HMAC-SHA256, under a key only the service holds, of the
access key id (and, for sessions, the token id), so any replica holding the keys can rebuild
the secret of a SigV4-signed request from the request alone.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

__all__ = [
    "ACCESS_KEY_ID_RE",
    "SECRET_LENGTH",
    "SESSION_PREFIX",
    "USER_KEY_PREFIX",
    "derive_secret",
    "new_access_key_id",
    "new_token_id",
]

SESSION_PREFIX = "BRKS"  # temporary credentials (AWS would use ASIA)
USER_KEY_PREFIX = "BRKU"  # long-term keys of directory service users (AWS: AKIA)
ACCESS_KEY_ID_RE = re.compile(r"^BRK[SU][A-Z2-7]{16}$")
SECRET_LENGTH = 40


def new_access_key_id(prefix: str) -> str:
    """A fresh 20-character access key id with ``prefix`` (one of the broker's own)."""
    if prefix not in (SESSION_PREFIX, USER_KEY_PREFIX):
        raise ValueError(f"unknown access key prefix {prefix!r}")
    # 80 random bits in one read of the OS generator, as 16 base32 characters (A-Z, 2-7, no
    # padding): uniform, and one syscall instead of one per character, which under many
    # request threads each gave up and re-queued for the GIL.
    return prefix + base64.b32encode(secrets.token_bytes(10)).decode()


def new_token_id() -> str:
    """A session id (the token's ``jti``): 128 bits as 26 lowercase base32 characters.

    Not base64url: an id that began with ``-`` read as an option to ``broker sts revoke
    --session ID``, so one session in 64 could not be revoked by the command people type.
    """
    return base64.b32encode(secrets.token_bytes(16)).decode().rstrip("=").lower()


def derive_secret(key: bytes, purpose: str, *parts: str) -> str:
    """The 40-character secret for ``parts`` under ``key``, domain-separated by ``purpose``."""
    message = "\x00".join((purpose, *parts)).encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.b64encode(digest[:30]).decode()
