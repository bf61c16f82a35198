"""``broker saml …``: service-provider tools for SAML identity providers.

``broker saml metadata PROVIDER`` prints our SP metadata (entity id, ACS, wanting signed
assertions) for the IdP administrator to import. Nothing secret is in it.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from broker.errors import ConfigError, UsageError

__all__ = ["MetadataInput", "register", "run_metadata"]


@dataclass(frozen=True)
class MetadataInput:
    """Which configured provider to describe."""

    provider: str


def register(subparsers: Any) -> None:
    """Add ``saml`` with its ``metadata`` subcommand."""
    saml = subparsers.add_parser("saml", help="SAML service-provider tools (metadata)")
    saml.set_defaults(handler=_needs_subcommand)
    sub = saml.add_subparsers(dest="saml_command", metavar="SUBCOMMAND")
    metadata = sub.add_parser(
        "metadata", help="print this broker's SP metadata XML for a SAML provider"
    )
    metadata.add_argument("provider", metavar="PROVIDER", help="a [providers.NAME] of type saml")
    metadata.set_defaults(handler=_metadata)


def _needs_subcommand(_args: argparse.Namespace) -> int:
    raise UsageError("`broker saml` needs a subcommand: metadata (see `broker saml --help`)")


def _metadata(args: argparse.Namespace) -> int:
    print(run_metadata(MetadataInput(provider=args.provider)), end="")
    return 0


def run_metadata(options: MetadataInput) -> str:
    """The SP metadata XML of the SAML provider ``options.provider``.

    Raises:
        ConfigError: no such provider, or its configuration is invalid.
        UsageError: the provider is not a SAML provider.
    """
    from broker.config import data_dir, load_config
    from broker.config.offline import offline_context
    from broker.config.providers import provider_tables
    from providers import registry

    config = load_config()
    providers = provider_tables(config)
    table = providers.get(options.provider)
    if table is None:
        names = ", ".join(sorted(providers)) or "none"
        raise ConfigError(
            f"{config.file}: no provider {options.provider!r} (configured: {names}); "
            "add a [providers.NAME] table"
        )
    kind = table.get("type")
    if kind != "saml":
        raise UsageError(
            f"provider {options.provider!r} is of type {kind!r}; "
            '`broker saml metadata` needs a provider with type = "saml"'
        )
    context = offline_context(config.directory, data_dir(), "printing metadata")
    provider = registry.load(kind).from_config(options.provider, table, context)
    metadata = getattr(provider, "metadata", None)
    if not callable(metadata):
        raise UsageError(f"provider {options.provider!r} cannot describe SP metadata")
    text: str = metadata()
    return text
