"""A provider context for commands that build providers without signing anyone in.

``broker saml metadata`` and ``broker config validate`` construct providers only to read or
check their settings; a replay cache or secret store touched on that path would be a bug, so
this context refuses both loudly instead of quietly opening the keyring.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from broker.errors import ProviderError
from providers.base import ProviderContext

__all__ = ["offline_context"]


class _Refusing:
    """Stands in for the replay cache and secret store on paths that sign nobody in."""

    def __init__(self, purpose: str) -> None:
        self.purpose = purpose

    def add_once(self, namespace: str, value: str, expires_at: datetime) -> bool:
        raise ProviderError(f"internal: {self.purpose} must not use the replay cache")

    def get_secret(self, key: str) -> str | None:
        raise ProviderError(f"internal: {self.purpose} must not read secrets")

    def set_secret(self, key: str, value: str) -> None:
        raise ProviderError(f"internal: {self.purpose} must not write secrets")


def offline_context(config_dir: Path, data_dir: Path, purpose: str) -> ProviderContext:
    """A ``ProviderContext`` whose replay cache and secret store raise if used."""
    refusing = _Refusing(purpose)
    return ProviderContext(
        config_dir=config_dir, data_dir=data_dir, replay_cache=refusing, secrets=refusing
    )
