"""The profile the credential chain's tests mint (kept apart from ``tests.client_support``,
which whole ``broker`` processes import at start and so must stay light)."""

from __future__ import annotations

from broker.client.profiles import Profile

__all__ = ["DEV"]

# Profile ``dev`` of ``write_config``: corp's Developer in 111122223333, minted locally.
DEV = Profile(
    name="dev",
    provider="corp",
    account="111122223333",
    role="Developer",
    minter="local",
    duration=3600,
    region=None,
)
