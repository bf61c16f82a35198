"""Choosing the minter a profile names (``local`` or ``aws``).

A minter module ``broker.minters.<name>`` exposes ``build_minter(config) -> Minter``. Until the
STS issue lands one, asking for it is a clear "not yet available", never a stand-in.
"""

from __future__ import annotations

import importlib

from broker.config import BrokerConfig
from broker.errors import ConfigError, NotYetAvailableError
from broker.minters.base import Minter

__all__ = ["KNOWN_MINTERS", "load_minter"]

KNOWN_MINTERS: dict[str, int] = {"local": 5, "aws": 8, "aws-identity-center": 17}
"""Minter name -> issue that brings it; the module is the name with ``-`` as ``_``."""


def load_minter(name: str, config: BrokerConfig) -> Minter:
    """Build the minter called ``name`` from the configuration.

    Raises:
        ConfigError: an unknown minter name.
        NotYetAvailableError: the minter's module is not installed yet.
    """
    if name not in KNOWN_MINTERS:
        raise ConfigError(f"unknown minter {name!r}; known: {', '.join(sorted(KNOWN_MINTERS))}")
    module_name = f"broker.minters.{name.replace('-', '_')}"
    missing = NotYetAvailableError(
        f"the {name!r} minter is not yet available (issue #{KNOWN_MINTERS[name]} brings it)"
    )
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            raise missing from None
        raise
    build = getattr(module, "build_minter", None)
    if build is None:
        raise missing
    minter: Minter = build(config)
    return minter
