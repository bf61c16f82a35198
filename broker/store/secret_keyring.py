"""``SecretKeyring``: what the credential store asks of a keyring, and nothing more.

Why a protocol: ``CredentialStore`` and the chain above it only ever get, set, delete and list
entries by key. Naming those four calls lets the OS keyring (``KeyringStore``) and the
in-memory keyring the fast unit tier uses (``broker.store.memory_keyring``) stand in for each
other, with mypy checking that both do.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["SecretKeyring"]


class SecretKeyring(Protocol):
    """Secrets by key. Every failure is a ``KeyringUnavailableError`` (one line, no secret)."""

    def get(self, key: str) -> str | None:
        """The entry stored under ``key``, or None."""
        ...

    def set(self, key: str, value: str) -> None:
        """Store ``value`` under ``key``, replacing any earlier entry."""
        ...

    def delete(self, key: str) -> bool:
        """Remove the entry; False if there was none."""
        ...

    def keys_with_prefix(self, prefix: str) -> list[str] | None:
        """Every key starting with ``prefix``, sorted; None where the keyring cannot list
        (callers then fall back to the keys they know of)."""
        ...
