"""The credential store's keyring entries: values too long for one backend entry split into
parts, switched atomically. Every call goes through the one keyring gate
(``broker.keyring_gate.gate``: allow-list, lock check, retries).
"""

from __future__ import annotations

from typing import Any

from broker.keyring_gate.gate import SERVICE, KeyringGate, qualname
from broker.store.secret_keyring import SecretKeyring

__all__ = ["KeyringSecretStore", "KeyringStore"]

_WINDOWS = "keyring.backends.Windows.WinVaultKeyring"
_WINDOWS_MAX_CHARS = 1200  # 2,560 bytes of UTF-16, with room to spare
_PARTS = "broker-parts "


class KeyringStore:
    """Secrets by key (``profile:NAME``, ``session:PROVIDER``, ``secret:KEY``) in the keyring.

    The backend is chosen and checked on first use. Every failure is a
    ``KeyringUnavailableError`` with one line that names the fix and no secret.

    Windows Credential Manager caps one secret at 2,560 bytes (UTF-16), less than an IdP
    session's tokens can take. A value over the backend's limit is split into parts written
    under a fresh generation (``KEY#GEN.I``) before the head entry (``broker-parts GEN N``)
    is switched to them, and the old parts are removed after: a reader sees the old value or
    the new one, never a mix (at worst, mid-switch, nothing, which callers treat as absent).

    Args:
        service: the keyring service name.
        max_chars: split values longer than this (default: 1,200 on Windows, else never).
    """

    def __init__(self, service: str = SERVICE, *, max_chars: int | None = None) -> None:
        self.service = service
        self.max_chars = max_chars
        self.gate = KeyringGate(service)

    @property
    def backend(self) -> Any:
        return self.gate.backend

    def _call(self, op: str, *args: str) -> Any:
        return self.gate.call(op, *args)

    def _limit(self) -> int | None:
        if self.max_chars is not None:
            return self.max_chars
        return _WINDOWS_MAX_CHARS if qualname(self.backend) == _WINDOWS else None

    def _raw_get(self, key: str) -> str | None:
        value: str | None = self._call("get_password", key)
        return value

    def _parts_of(self, head: str | None) -> tuple[str, int] | None:
        if head is None or not head.startswith(_PARTS):
            return None
        try:
            generation, count = head[len(_PARTS) :].split(" ")
            return generation, int(count)
        except ValueError:
            return None

    def get(self, key: str) -> str | None:
        """The entry stored under ``key``, or None."""
        head = self._raw_get(key)
        parts = self._parts_of(head)
        if parts is None:
            return head
        generation, count = parts
        chunks = [self._raw_get(f"{key}#{generation}.{i}") for i in range(count)]
        if any(chunk is None for chunk in chunks):
            return None  # replaced while we read: treat as absent
        return "".join(chunk for chunk in chunks if chunk is not None)

    def set(self, key: str, value: str) -> None:
        """Store ``value`` under ``key``, replacing any earlier entry."""
        old = self._parts_of(self._raw_get(key))
        limit = self._limit()
        if limit is None or len(value) <= limit:
            self._call("set_password", key, value)
        else:
            import secrets

            generation = secrets.token_hex(4)
            chunks = [value[i : i + limit] for i in range(0, len(value), limit)]
            for i, chunk in enumerate(chunks):
                self._call("set_password", f"{key}#{generation}.{i}", chunk)
            self._call("set_password", key, f"{_PARTS}{generation} {len(chunks)}")
        self._drop_parts(key, old)

    def _drop_parts(self, key: str, parts: tuple[str, int] | None) -> None:
        if parts is not None:
            generation, count = parts
            for i in range(count):
                self._call("delete_password", f"{key}#{generation}.{i}")

    def keys_with_prefix(self, prefix: str) -> list[str] | None:
        """Every key of this service starting with ``prefix`` (parts included), read from the
        keyring itself; None where the backend cannot list its items (then callers fall back
        to the keys they know of)."""
        return self.gate.keys_with_prefix(prefix)

    def delete(self, key: str) -> bool:
        """Remove the entry (and its parts); False if there was none."""
        parts = self._parts_of(self._raw_get(key))
        removed = self._call("delete_password", key) is not False
        self._drop_parts(key, parts)
        return removed


class KeyringSecretStore:
    """``providers.base.SecretStore`` on the keyring: a provider's own secrets, namespaced."""

    def __init__(self, store: SecretKeyring, provider: str) -> None:
        self._store = store
        self._prefix = f"secret:{provider}:"

    def get_secret(self, key: str) -> str | None:
        return self._store.get(self._prefix + key)

    def set_secret(self, key: str, value: str) -> None:
        self._store.set(self._prefix + key, value)
