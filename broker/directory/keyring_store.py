"""The OS keyring, for the directory's own secrets (TOTP seeds), under service "access-broker".

This is the directory's one call site of the keyring, and it goes through the same gate as the
credential store (``broker.keyring_gate``): only real OS keyrings, a locked Secret Service
refused at once, transient failures retried, and every entry scoped to the data directory's
id so two data directories of one user keep their seeds apart.
"""

from __future__ import annotations

from pathlib import Path

from broker.keyring_gate.gate import SERVICE, KeyringGate
from broker.keyring_gate.home_id import home_id, scoped_key

__all__ = ["KeyringSecrets"]


class KeyringSecrets:
    """The directory's secrets in the OS keyring, scoped to ``data_dir`` (``MfaSecrets``).

    An entry written before entries were scoped (``mfa/alice/totp`` alone) is copied into this
    data directory's scope on first read: callers ask only for a device the directory has on
    record, which vouches for it. The old entry stays, since another data directory of the
    same user may have enrolled under it too.
    """

    def __init__(self, data_dir: Path, *, gate: KeyringGate | None = None) -> None:
        self.data_dir = data_dir
        self.gate = gate or KeyringGate(SERVICE)
        self._home: str | None = None

    def _key(self, key: str) -> str:
        if self._home is None:
            self._home = home_id(self.data_dir)
        return scoped_key(self._home, key)

    def get_secret(self, key: str) -> str | None:
        value = self.gate.call("get_password", self._key(key))
        if isinstance(value, str):
            return value
        legacy = self.gate.call("get_password", key)
        if not isinstance(legacy, str):
            return None
        self.gate.call("set_password", self._key(key), legacy)
        return legacy

    def set_secret(self, key: str, value: str) -> None:
        self.gate.call("set_password", self._key(key), value)

    def delete_secret(self, key: str) -> None:
        self.gate.call("delete_password", self._key(key))
