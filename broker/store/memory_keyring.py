"""``MemoryKeyring``: a ``SecretKeyring`` in a dict, for the fast unit tier of the chain.

No production path uses it: the broker keeps secrets only in an allow-listed OS keyring
(``KeyringStore``). It exists so the credential chain (cache, refresh, mint) can be tested in
milliseconds without a D-Bus session, and so the fail-closed paths are easy to reach: a test
can lock it, take it away, or make its next calls fail, and it then refuses exactly as the
real store does, with the same ``KeyringUnavailableError`` wording. The real Secret Service
stays in the integration tier (``tests/integration/test_store_keyring.py``).

What it keeps of the real store's rules: keys and values are text; a locked keyring refuses
every call (never prompts, never half-writes); a missing keyring refuses every call; a keyring
that cannot list its entries answers None to ``keys_with_prefix`` (as the macOS and Windows
backends do). A value is stored whole: the real store has no size refusal either (it splits a
value over a backend's limit into parts, which the integration tier tests).
"""

from __future__ import annotations

import threading
from collections import Counter
from enum import Enum

from broker.errors import KeyringUnavailableError
from broker.keyring_gate.gate import LOCKED_MESSAGE
from broker.store.secret_keyring import SecretKeyring

__all__ = ["LOCKED_MESSAGE", "KeyringState", "MemoryKeyring"]

_ABSENT_MESSAGE = (
    "no secure OS keyring is available (found: none; plaintext and null backends are never "
    "used): install and start a Secret Service (gnome-keyring or KWallet) on Linux; macOS "
    "Keychain and Windows Credential Locker work out of the box"
)


class KeyringState(Enum):
    """How the keyring answers: normally, locked, or not there at all."""

    OPEN = "open"
    LOCKED = "locked"
    ABSENT = "absent"


class MemoryKeyring:
    """Secrets by key in memory, safe to share between threads.

    Args:
        listable: whether ``keys_with_prefix`` can list (False: it answers None).
    """

    def __init__(self, *, listable: bool = True) -> None:
        self.listable = listable
        self.state = KeyringState.OPEN
        self.calls: Counter[str] = Counter()  # successful calls by name (get, set, ...)
        self._entries: dict[str, str] = {}
        self._failing: dict[str, int] = {}
        self._guard = threading.Lock()

    # -- what a test switches ---------------------------------------------------------------

    def fail_next(self, operation: str, times: int = 1) -> None:
        """Make the next ``times`` calls of ``operation`` (``get``, ``set``, ``delete``,
        ``keys_with_prefix``) fail as a keyring that stopped answering does."""
        if operation not in ("get", "set", "delete", "keys_with_prefix"):
            raise ValueError(f"no keyring operation {operation!r}")
        with self._guard:
            self._failing[operation] = self._failing.get(operation, 0) + times

    def snapshot(self) -> dict[str, str]:
        """A copy of every entry (for assertions; reading it is not a keyring call)."""
        with self._guard:
            return dict(self._entries)

    # -- SecretKeyring ----------------------------------------------------------------------

    def get(self, key: str) -> str | None:
        with self._guard:
            self._admit("get", key)
            return self._entries.get(key)

    def set(self, key: str, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("a keyring entry is text")
        with self._guard:
            self._admit("set", key)
            self._entries[key] = value

    def delete(self, key: str) -> bool:
        with self._guard:
            self._admit("delete", key)
            return self._entries.pop(key, None) is not None

    def keys_with_prefix(self, prefix: str) -> list[str] | None:
        with self._guard:
            self._admit("keys_with_prefix", prefix)
            if not self.listable:
                return None
            return sorted(key for key in self._entries if key.startswith(prefix))

    def _admit(self, operation: str, key: str) -> None:
        """Refuse the call as the real store would, or count it. Holds ``_guard``."""
        if not isinstance(key, str):
            raise TypeError("a keyring key is text")
        if self.state is KeyringState.LOCKED:
            raise KeyringUnavailableError(LOCKED_MESSAGE)
        if self.state is KeyringState.ABSENT:
            raise KeyringUnavailableError(_ABSENT_MESSAGE)
        if self._failing.get(operation, 0) > 0:
            self._failing[operation] -= 1
            raise KeyringUnavailableError(
                "the OS keyring failed after 4 attempts; check that it is running and "
                "unlocked, then retry"
            )
        self.calls[operation] += 1


def _conforms(memory: MemoryKeyring) -> SecretKeyring:
    """Never called: mypy checks here that ``MemoryKeyring`` is a ``SecretKeyring``."""
    return memory
