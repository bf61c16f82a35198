"""The one reader of ``[providers.<name>]`` tables and of ``[broker] default_provider``.

Sign-in, ``config validate``, the SAML metadata command, shell completion, the TUI's provider
list, its stored sign-in and profiles all ask these two functions, so a malformed entry is
refused the same way everywhere instead of being skipped by one reader and fatal in another.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from broker.config.loader import BrokerConfig
from broker.config.schema import ConfigIssue, ConfigIssues
from broker.config.toml_names import toml_key

__all__ = ["default_provider", "provider_tables"]


def provider_tables(config: BrokerConfig) -> dict[str, Mapping[str, Any]]:
    """Every ``[providers.<name>]`` table by name, in file order.

    Raises:
        ConfigIssues: ``providers`` is not a table, or entries in it are not tables (each
            named, all at once).
    """
    file = str(config.file)
    section = config.sections.get("providers", {})
    if not isinstance(section, dict):
        raise ConfigIssues([ConfigIssue(file, "providers", "expected a table of providers")])
    issues = [
        ConfigIssue(
            file,
            f"providers.{name}",
            f"expected a table, got {type(table).__name__}; "
            f"write it as [providers.{toml_key(name)}]",
        )
        for name, table in section.items()
        if not isinstance(table, dict)
    ]
    if issues:
        raise ConfigIssues(issues)
    return dict(section)


def default_provider(config: BrokerConfig) -> str | None:
    """``[broker] default_provider``, or None when it is not set.

    Raises:
        ConfigIssues: ``[broker]`` is not a table, or the value is not a provider name.
    """
    broker = config.sections.get("broker", {})
    file = str(config.file)
    if not isinstance(broker, dict):
        raise ConfigIssues([ConfigIssue(file, "broker", "expected a table")])
    value = broker.get("default_provider")
    if value is None or isinstance(value, str):
        return value
    raise ConfigIssues(
        [
            ConfigIssue(
                file,
                "broker.default_provider",
                f"expected a provider name (a string), got {type(value).__name__}",
            )
        ]
    )
