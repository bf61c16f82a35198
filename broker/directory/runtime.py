"""The directory's runtime state (MFA devices and their last TOTP step, JIT users) behind a seam.

It lives once in the state database (``broker.storage.directory_runtime.SqlDirectoryRuntime``),
outside every snapshot: replicas share it, so a TOTP step used through one replica is refused by
every other, and a new snapshot of the configuration finds it as it was.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["RuntimeState"]


class RuntimeState(Protocol):
    """What the directory changes at run time. No secrets (TOTP seeds are in the keyring)."""

    def mfa_devices(self, user: str) -> list[str]:
        """The user's MFA device names."""
        ...

    def add_mfa_device(self, user: str, device: str) -> None:
        """Register ``device`` (again: its last step is forgotten)."""
        ...

    def mfa_last_step(self, user: str, device: str) -> int | None:
        """The last TOTP time step accepted for ``device``."""
        ...

    def set_mfa_last_step(self, user: str, device: str, step: int) -> bool:
        """Record ``step`` as used; False if it (or a later one) already was (atomic)."""
        ...

    def remove_mfa_device(self, user: str, device: str) -> None: ...

    def record_jit_user(self, provider: str, subject: str, name: str, email: str) -> bool:
        """Remember a just-in-time user; False if already known."""
        ...
