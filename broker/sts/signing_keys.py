"""The broker's session-token keys: ES256 signing keys with rotation, plus derivation secrets.

Each key has a ``kid``, an EC P-256 private key (signs session tokens; the algorithm is pinned
to ES256) and a 256-bit derivation secret (derives the secret access key of every session the
key signed). ``rotate`` adds a key that signs from then on; older keys keep verifying until
the longest session they could have signed (36 h) has expired, then ``prune`` drops them.
Long-term user keys derive from one separate secret that rotation does not touch.

Keys live in ``<data>/sts/signing-keys.json``, 0600 in a 0700 directory; a file other users
can read is refused, never trusted.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from broker.errors import ConfigError
from broker.private_files import PrivateFiles

__all__ = [
    "KEY_LIFETIME_AFTER_RETIRE",
    "KeyRing",
    "KeyRingFile",
    "KeyRingSource",
    "SigningKey",
    "default_key_file",
]

_files = PrivateFiles(ConfigError)

# The longest session any key can sign (GetSessionToken/GetFederationToken: 36 h).
KEY_LIFETIME_AFTER_RETIRE = timedelta(seconds=129_600)


def default_key_file() -> Path:
    """``<data>/sts/signing-keys.json``."""
    from broker.config.loader import data_dir

    return data_dir() / "sts" / "signing-keys.json"


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


def _generate(now: datetime) -> SigningKey:
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

    def verifying(self, kid: str, now: datetime) -> SigningKey | None:
        """The key named ``kid`` if it may still verify tokens at ``now``."""
        for key in self.keys:
            if key.kid == kid and key.status(now) != "expired":
                return key
        return None

    @classmethod
    def load(cls, path: Path | None = None, *, create: bool = True) -> KeyRing:
        """Read the key file; with ``create``, make the first key when there is none."""
        path = path or default_key_file()
        data = _files.read_json(path, None)
        if data is None:
            if not create:
                raise ConfigError(f"no signing keys in {path}; run `broker keys rotate`")
            with _files.locked(path):
                data = _files.read_json(path, None)
                if data is None:
                    ring = cls((_generate(datetime.now(UTC)),), secrets.token_bytes(32))
                    ring.save(path)
                    return ring
        return cls._from_json(data, path)

    @classmethod
    def _from_json(cls, data: Any, path: Path) -> KeyRing:
        try:
            keys = tuple(SigningKey.from_json(item) for item in data["keys"])
            return cls(keys, base64.b64decode(data["user_key_secret"]))
        except (KeyError, TypeError, ValueError):
            raise ConfigError(f"{path} is not a valid signing-key file") from None

    def save(self, path: Path | None = None) -> None:
        _files.write_json(
            path or default_key_file(),
            {
                "keys": [key.to_json() for key in self.keys],
                "user_key_secret": base64.b64encode(self.user_key_secret).decode(),
            },
        )

    @classmethod
    def rotate(cls, path: Path | None = None, now: datetime | None = None) -> KeyRing:
        """Retire the active key, add a new one that signs from now, drop expired ones."""
        path = path or default_key_file()
        now = now or datetime.now(UTC)
        with _files.locked(path):
            ring = cls.load(path)
            kept = tuple(
                key if key.retired is not None else _retire(key, now)
                for key in ring.keys
                if key.status(now) != "expired"
            )
            rotated = cls((_generate(now), *kept), ring.user_key_secret)
            rotated.save(path)
        return rotated


def _retire(key: SigningKey, now: datetime) -> SigningKey:
    from dataclasses import replace

    return replace(key, retired=now)


class KeyRingSource(Protocol):
    """Where a long-running service reads the current ring: ``KeyRingFile`` or, for replicas
    on several hosts, ``broker.sts.key_ring_db.DatabaseKeyRing``."""

    def current(self) -> KeyRing: ...


class KeyRingFile:
    """The key file as a long-running service sees it: re-read whenever it changes.

    ``broker keys rotate`` on any host sharing the data directory is picked up by every
    running replica at its next request (one ``stat`` per request), so tokens signed by the
    new key verify everywhere and the new key signs everywhere.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_key_file()
        self._stamp: tuple[int, int, int] | None = None
        self._ring: KeyRing | None = None

    def current(self) -> KeyRing:
        try:
            info = self.path.stat()
            stamp = (info.st_ino, info.st_mtime_ns, info.st_size)
        except FileNotFoundError:
            stamp = None
        if self._ring is None or stamp != self._stamp:
            self._ring = KeyRing.load(self.path)
            info = self.path.stat()
            self._stamp = (info.st_ino, info.st_mtime_ns, info.st_size)
        return self._ring
