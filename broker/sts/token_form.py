"""One spelling per session token: canonical base64url and the low-S form of its signature.

A JWS can be re-spelled without its signer: base64url's last character carries unused low
bits (``...A`` and ``...B`` may decode to the same bytes), and an ECDSA signature ``(r, s)``
verifies as ``(r, n - s)`` too. Verification alone accepts every spelling, so a token would
not be one string: a revocation list, a cache or an audit search keyed by the token's text
could be sidestepped by a re-spelled copy. Tokens are therefore signed in one form (``s`` in
the lower half of the group order, as Bitcoin's BIP 62 and the "low-S" rule of other
ECDSA users require) and only that form, with each part in canonical unpadded base64url
(RFC 7515 §2, RFC 4648 §3.5), is accepted. Nothing here verifies a signature: the ECDSA
check stays with python-jose and cryptography.
"""

from __future__ import annotations

import base64
import binascii
import re

__all__ = ["P256_ORDER", "canonical_token", "low_s_token"]

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
"""n, the order of NIST P-256's base point (FIPS 186-4 D.1.2.3; SEC 2 secp256r1)."""

_HALF_ORDER = P256_ORDER // 2
_COORDINATE_BYTES = 32
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*", re.ASCII)


def _decode(part: str) -> bytes | None:
    """``part``'s bytes if it is canonical unpadded base64url, else ``None``."""
    if not _BASE64URL.fullmatch(part) or len(part) % 4 == 1:
        return None
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        return None
    if _encode(raw) != part:  # non-zero unused bits in the last character
        return None
    return raw


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _signature_numbers(raw: bytes) -> tuple[int, int]:
    """JWS ES256's signature as its two numbers: RFC 7518 §3.4 defines it as ``r`` and ``s``,
    each 32 bytes big-endian, side by side (a layout, not a cryptographic operation)."""
    return (
        int.from_bytes(raw[:_COORDINATE_BYTES], "big"),
        int.from_bytes(raw[_COORDINATE_BYTES:], "big"),
    )


def canonical_token(token: str) -> bool:
    """Whether ``token`` is in its one accepted spelling: three canonical base64url parts and a
    64-byte ES256 signature whose ``s`` is non-zero and in the lower half of the order."""
    parts = token.split(".")
    if len(parts) != 3:
        return False
    decoded = [_decode(part) for part in parts]
    if any(raw is None for raw in decoded):
        return False
    signature = decoded[2]
    if signature is None or len(signature) != 2 * _COORDINATE_BYTES:
        return False
    _r, s = _signature_numbers(signature)
    return 0 < s <= _HALF_ORDER


def low_s_token(token: str) -> str:
    """The same signed token with its signature in the low-S form (``s`` → ``n - s`` when ``s``
    is in the upper half; both verify, only this one is accepted)."""
    header, payload, encoded_signature = token.split(".")
    raw = base64.urlsafe_b64decode(encoded_signature + "=" * (-len(encoded_signature) % 4))
    r, s = _signature_numbers(raw)
    if s <= _HALF_ORDER:
        return token
    low = P256_ORDER - s
    signature = r.to_bytes(_COORDINATE_BYTES, "big") + low.to_bytes(_COORDINATE_BYTES, "big")
    return f"{header}.{payload}.{_encode(signature)}"
