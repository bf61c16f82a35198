"""Choosing the minter a profile names (``local``, ``aws``, ``aws-saml``, ``aws-web-identity``,
``aws-identity-center``).

A minter module ``broker.minters.<name>`` (dashes as underscores) exposes
``build_minter(config, state) -> Minter`` (``state``: the front end's ``StateHandle``, for the
signing keys and the audit chain); it is imported only when a profile names it, so a command
that mints nothing never pays for it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from broker.config import BrokerConfig
from broker.errors import ConfigError
from broker.minters.base import Minter

if TYPE_CHECKING:
    from broker.sts.state_handle import StateHandle

__all__ = ["KNOWN_MINTERS", "load_minter"]

KNOWN_MINTERS: frozenset[str] = frozenset(
    {"local", "aws", "aws-saml", "aws-web-identity", "aws-identity-center"}
)


def load_minter(name: str, config: BrokerConfig, state: StateHandle) -> Minter:
    """Build the minter called ``name`` from the configuration.

    Raises:
        ConfigError: an unknown minter name.
    """
    if name not in KNOWN_MINTERS:
        raise ConfigError(f"unknown minter {name!r}; known: {', '.join(sorted(KNOWN_MINTERS))}")
    module = importlib.import_module(f"broker.minters.{name.replace('-', '_')}")
    minter: Minter = module.build_minter(config, state)
    return minter
