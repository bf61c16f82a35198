"""Re-spellings of a session token that keep its bytes or its signature valid (test helpers).

Both are attacks on the token's one spelling (``broker.sts.token_form``): the result decodes to
the same bytes, or carries a signature that verifies, yet is a different string.
"""

from __future__ import annotations

import base64

from broker.sts.token_form import P256_ORDER

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unused_bits_twin(token: str) -> str:
    """``token`` with the unused low bits of its signature's last character set: the part still
    decodes to the same bytes (64 bytes in 86 characters leave 4 bits unused)."""
    header, payload, signature = token.split(".")
    last = _ALPHABET.index(signature[-1])
    twin = signature[:-1] + _ALPHABET[last | 0b1111]
    if twin == signature:
        twin = signature[:-1] + _ALPHABET[last & ~0b1111 | 0b0001]
    assert twin != signature and _decode(twin) == _decode(signature)
    return f"{header}.{payload}.{twin}"


def high_s_twin(token: str) -> str:
    """``token`` with its ES256 signature ``(r, s)`` replaced by ``(r, n - s)``, which verifies
    under the same key."""
    header, payload, signature = token.split(".")
    raw = _decode(signature)
    r, s = raw[:32], int.from_bytes(raw[32:], "big")
    return f"{header}.{payload}.{_encode(r + (P256_ORDER - s).to_bytes(32, 'big'))}"
