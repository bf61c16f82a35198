"""Finding providers by name through the ``broker.providers`` entry-point group.

Names are listed from package metadata without importing any provider, so ``broker providers``
and config validation stay fast and a broken third-party plugin cannot break listing.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING

from broker.errors import ConfigError
from providers.base import IdentityProvider, PublishesLocalKeys

if TYPE_CHECKING:
    from broker.tokens.oidc.jwks import JWKSCache

__all__ = ["GROUP", "installed", "load", "local_key_sets", "local_keys"]

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


def local_key_sets(data_dir: Path) -> dict[str, JWKSCache]:
    """Every issuer's key set that an installed provider type publishes under ``data_dir``
    (``providers.base.PublishesLocalKeys``), by issuer.

    What the front ends hand the STS's web-identity verifier, so the STS itself names no
    provider. A type that cannot be loaded publishes nothing (its tokens are then refused as
    from an unreachable IdP); an issuer two types claim is left out, so neither is trusted.
    """
    found: dict[str, JWKSCache] = {}
    claimed: set[str] = set()
    for name in installed():
        try:
            kind: object = load(name)
        except ConfigError:
            continue
        if not isinstance(kind, PublishesLocalKeys):
            continue
        for issuer, keys in kind.local_key_sets(data_dir).items():
            if issuer in claimed:
                found.pop(issuer, None)
            else:
                found[issuer] = keys
            claimed.add(issuer)
    return found


def local_keys(data_dir: Path | None) -> Callable[[], dict[str, JWKSCache]] | None:
    """``local_key_sets`` over ``data_dir`` as the web-identity verifier takes it: called on
    first need only (loading every provider type is not free); None without a data directory."""
    if data_dir is None:
        return None
    return lambda: local_key_sets(data_dir)
