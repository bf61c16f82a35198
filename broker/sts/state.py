"""The STS's view of the one server-side state: its stores, built once over the database.

A front end (a command, a ``broker serve`` worker, the TUI) opens the state once with
``open_sts_state(url)`` and passes it to what it calls; nothing below reads the environment or
looks for files. Signing keys, access key records, revocations, session policies, MFA devices,
one-time values and the audit chain all live in that one database (``broker.storage``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from broker.storage.shared_state import SharedState, open_shared_state
from broker.storage.url import DatabaseUrl, database_url
from broker.sts.access_keys import AccessKeyStore
from broker.sts.key_ring_db import DatabaseKeyRing
from broker.sts.legacy_files import import_legacy_files
from broker.sts.mfa import MfaDevices
from broker.sts.signing_keys import KeyRing

__all__ = ["StsState", "open_sts_state"]


@dataclass(frozen=True)
class StsState:
    """The stores of one front end over one database; ``close`` releases its connections."""

    shared: SharedState
    ring_source: DatabaseKeyRing

    @property
    def ring(self) -> KeyRing:
        """The key ring as it stands now (created with its first key on first use)."""
        return self.ring_source.current()

    def access_keys(self) -> AccessKeyStore:
        """Long-term access keys, their secrets derived from the current ring."""
        return AccessKeyStore(self.ring, self.shared.access_keys)

    def mfa_devices(self) -> MfaDevices:
        """Service users' virtual MFA devices, their seeds derived from the ring."""
        return MfaDevices(self.ring_source, self.shared.sts_mfa)

    def close(self) -> None:
        self.shared.close()


def open_sts_state(
    configured_url: str | DatabaseUrl | None,
    data_dir: Path,
    *,
    pool_size: int = 8,
    key_refresh: float = 1.0,
    durable_commits: bool = True,
) -> StsState:
    """Open the state: ``configured_url`` (read by the front end), else ``<data>/broker.db``.

    Files of the old layout under ``data_dir`` are moved into the database first
    (``broker.sts.legacy_files``). ``key_refresh``: how long a read key ring is trusted
    unchecked, so a rotation through another process is seen within that many seconds (a
    check on every call would cost each STS request another read; 0 checks every call).

    Raises:
        ConfigError: unreachable database, a schema behind or ahead of this broker, or an old
            state file that cannot be moved.
    """
    url = (
        configured_url
        if isinstance(configured_url, DatabaseUrl)
        else database_url(configured_url, data_dir)
    )
    shared = open_shared_state(url, pool_size=pool_size, durable_commits=durable_commits)
    try:
        import_legacy_files(shared.database, data_dir)
    except BaseException:
        shared.close()
        raise
    return StsState(shared, DatabaseKeyRing(shared.keys, refresh=key_refresh))
