"""What one keyring entry holds, as text: a profile's credentials, or an IdP session's tokens.

A profile entry is ``broker-v1 <expiry epoch> <revocation stamp> <lifetime seconds>\\n<
credential_process Version 1 JSON>``: the hot path compares integers (``broker.client.
freshness``) and writes the rest to stdout without parsing JSON or dates. Entries written
before the lifetime was kept end at the stamp; readers then count them as long-lived.
A session entry is JSON with the IdP's tokens (refresh, ID, access, SAML response).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from broker.errors import StoreError
from broker.minters.base import Credentials
from providers.base import Claims, SignInResult

__all__ = [
    "PROFILE_MAGIC",
    "decode_credentials",
    "decode_lifetime",
    "decode_session",
    "encode_credentials",
    "encode_session",
    "entry_stamp",
    "profile_key",
    "session_key",
    "session_nonce",
]

PROFILE_MAGIC = "broker-v1"


def profile_key(profile: str) -> str:
    return f"profile:{profile}"


def session_key(provider: str) -> str:
    return f"session:{provider}"


def encode_credentials(
    credentials: Credentials, stamp: str, lifetime_seconds: int | None = None
) -> str:
    """The profile entry for ``credentials``, checked against revocation list ``stamp``;
    ``lifetime_seconds`` (how long they were minted for) decides how long they stay fresh."""
    epoch = int(credentials.expiration.timestamp())
    body = json.dumps(credentials.to_process_json(), separators=(",", ":"))
    lifetime = "" if lifetime_seconds is None else f" {max(0, int(lifetime_seconds))}"
    return f"{PROFILE_MAGIC} {epoch} {stamp}{lifetime}\n{body}"


def entry_stamp(entry: str) -> str | None:
    """The revocation stamp a profile entry was last checked at (None: never checked)."""
    fields = entry.partition("\n")[0].split(" ")
    return fields[2] if len(fields) in (3, 4) else None


def decode_lifetime(entry: str) -> int | None:
    """The lifetime a profile entry records, or None (an older entry, or not a profile's)."""
    fields = entry.partition("\n")[0].split(" ")
    if len(fields) == 4 and fields[0] == PROFILE_MAGIC and fields[3].isdigit():
        return int(fields[3])
    return None


def decode_credentials(entry: str) -> Credentials:
    """Inverse of ``encode_credentials``.

    Raises:
        StoreError: the entry is not in this format (it is then treated as absent by callers
            that can re-mint).
    """
    try:
        head, body = entry.split("\n", 1)
        magic, _epoch = head.split(" ", 1)
        if magic != PROFILE_MAGIC:
            raise ValueError(magic)
        doc = json.loads(body)
        return Credentials(
            access_key_id=doc["AccessKeyId"],
            secret_access_key=doc["SecretAccessKey"],
            session_token=doc["SessionToken"],
            expiration=datetime.strptime(doc["Expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(
                tzinfo=UTC
            ),
        )
    except (ValueError, KeyError, TypeError):
        raise StoreError("a cached profile entry in the keyring is unreadable") from None


def encode_session(result: SignInResult, nonce: str | None = None) -> str:
    """The session entry: the tokens only (claims live in the index), and the write's nonce."""
    return json.dumps(
        {
            "v": 1,
            "nonce": nonce,
            "expires_at": result.expires_at.isoformat(),
            "refresh_token": result.refresh_token,
            "id_token": result.id_token,
            "access_token": result.access_token,
            "saml_response": result.saml_response,
        }
    )


def session_nonce(entry: str) -> str | None:
    """The nonce a session entry was written with (None when unreadable or without one)."""
    try:
        nonce = json.loads(entry).get("nonce")
    except (ValueError, AttributeError):
        return None
    return nonce if isinstance(nonce, str) else None


def decode_session(entry: str, claims: Claims) -> SignInResult:
    """Rebuild the ``SignInResult`` from its keyring entry and the index's claims."""
    try:
        doc = json.loads(entry)
        if doc.get("v") != 1:
            raise ValueError("version")
        return SignInResult(
            claims=claims,
            expires_at=datetime.fromisoformat(doc["expires_at"]),
            refresh_token=doc.get("refresh_token"),
            id_token=doc.get("id_token"),
            access_token=doc.get("access_token"),
            saml_response=doc.get("saml_response"),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        from broker.login_advice import plain_login_advice

        raise StoreError(
            f"the stored {claims.provider} session is unreadable; ",
            sign_in=plain_login_advice(claims.provider),
        ) from None
