"""Finding providers by name through the ``broker.providers`` entry-point group.

Names are listed from package metadata without importing any provider, so ``broker providers``
and config validation stay fast and a broken third-party plugin cannot break listing.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from broker.errors import ConfigError
from providers.base import IdentityProvider

__all__ = ["GROUP", "installed", "load"]

GROUP = "broker.providers"


def installed() -> list[str]:
    """Names of every installed provider type, sorted."""
    return sorted({ep.name for ep in entry_points(group=GROUP)})


def load(kind: str) -> type[IdentityProvider]:
    """The provider class registered as ``kind``.

    Raises:
        ConfigError: no provider of that name is installed (the message lists those that are),
            or its module fails to import.
    """
    matches = [ep for ep in entry_points(group=GROUP) if ep.name == kind]
    if not matches:
        names = ", ".join(installed()) or "none"
        raise ConfigError(f"unknown provider type {kind!r}; installed: {names}")
    try:
        loaded = matches[0].load()
    except (ImportError, AttributeError) as exc:
        raise ConfigError(
            f"provider type {kind!r} is registered but cannot be loaded ({exc}); "
            "reinstall the package that provides it"
        ) from None
    if not isinstance(loaded, type):
        raise ConfigError(f"provider type {kind!r} does not name a class")
    return loaded
