"""The session-token key ring in the state database, the one home of the signing keys.

``current()`` for a long-running service, over
``broker.storage.SqlKeySet``: each signing key's JSON is one row (its retirement time kept in
the row), and the ring's user-key derivation secret is a ring secret. The first replica to
start creates the first key and the secret; the others use them. A rotation elsewhere is seen
within ``refresh`` seconds.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime

from broker.storage.corrupt_rows import ROW_ERRORS, corrupt_row
from broker.storage.key_set import SqlKeySet
from broker.sts.signing_keys import KEY_LIFETIME_AFTER_RETIRE, KeyRing, SigningKey, generate_key

__all__ = ["DatabaseKeyRing"]


class DatabaseKeyRing:
    """The key ring as the database holds it (thread-safe, cached for ``refresh`` seconds)."""

    def __init__(self, keys: SqlKeySet, *, refresh: float = 1.0) -> None:
        """``refresh``: seconds a read ring is trusted unchecked; 0 checks the key set's stamp
        (one small read) on every call, so a rotation is seen at the very next call."""
        self._keys = keys
        self._refresh = refresh
        self._lock = threading.Lock()
        self._ring: KeyRing | None = None
        self._stamp: tuple[int, int, int] | None = None
        self._read_at = 0.0

    def current(self) -> KeyRing:
        with self._lock:
            if self._ring is not None and time.monotonic() - self._read_at <= self._refresh:
                return self._ring
            stamp = self._keys.stamp()
            if self._ring is None or stamp != self._stamp:
                self._ring = self._load()
                self._stamp = self._keys.stamp()
            self._read_at = time.monotonic()
            return self._ring

    def rotate(self, now: datetime | None = None) -> KeyRing:
        """Add a key that signs from ``now`` (default: now) on; the previous one keeps verifying
        for the longest session it could have signed, after which it is dropped."""
        now = now or datetime.now(UTC)
        key = generate_key(now)
        self._keys.rotate(key.kid, json.dumps(key.to_json()), now=now)
        self._keys.prune(now - KEY_LIFETIME_AFTER_RETIRE)  # no token they signed is alive
        with self._lock:
            self._ring = None
        return self.current()

    def _load(self) -> KeyRing:
        rows = self._keys.keys()
        if not any(row.retired is None for row in rows):
            key = generate_key(datetime.now(UTC))
            self._keys.rotate(key.kid, json.dumps(key.to_json()), only_if_none=True)
            rows = self._keys.keys()
        secret = self._keys.secret(
            "user_key_secret", lambda: base64.b64encode(secrets.token_bytes(32)).decode()
        )
        try:
            keys = tuple(
                _usable(
                    replace(SigningKey.from_json(json.loads(row.material)), retired=row.retired)
                )
                for row in reversed(rows)  # newest first, as the file ring keeps them
            )
        except ROW_ERRORS:
            raise corrupt_row(self._keys.database, "signing_keys", "material") from None
        try:
            derivation = base64.b64decode(secret, validate=True)
        except ROW_ERRORS:
            raise corrupt_row(self._keys.database, "key_ring_secrets", "material") from None
        return KeyRing(keys, derivation)


def _usable(key: SigningKey) -> SigningKey:
    """``key`` once its PEMs parse: a damaged one is refused when the ring is read (a cold
    path), not as an unexpected error in the middle of signing or verifying a request."""
    from cryptography.hazmat.primitives import serialization

    serialization.load_pem_private_key(key.private_pem.encode(), password=None)
    serialization.load_pem_public_key(key.public_pem.encode())
    return key
