"""Where configuration and data live, and reading ``broker.toml``.

* ``BROKER_CONFIG`` (or ``--config``) names the configuration directory; by default the
  ``config/`` directory shipped beside the packages (the embedded demo setup).
* ``BROKER_HOME`` names the data directory (SQLite, index, audit log); by default the
  platform's user data directory.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from broker.errors import ConfigError

__all__ = ["BrokerConfig", "config_dir", "data_dir", "load_config"]

_SHIPPED_CONFIG = Path(__file__).resolve().parent.parent.parent / "config"


def config_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The configuration directory: ``override``, else ``$BROKER_CONFIG``, else the shipped one."""
    chosen = override or os.environ.get("BROKER_CONFIG")
    path = Path(chosen).expanduser() if chosen else _SHIPPED_CONFIG
    if not (path / "broker.toml").is_file():
        raise ConfigError(
            f"no broker.toml in {path}: point BROKER_CONFIG (or --config) at a configuration "
            "directory"
        )
    return path


def data_dir() -> Path:
    """The per-user data directory (``$BROKER_HOME`` or the platform default), not created here."""
    home = os.environ.get("BROKER_HOME")
    if home:
        return Path(home).expanduser()
    import platformdirs  # imported here: only commands that touch data need it

    return Path(platformdirs.user_data_dir("access-broker", appauthor=False))


@dataclass(frozen=True)
class BrokerConfig:
    """``broker.toml`` read but not yet interpreted: each area validates its own section."""

    directory: Path
    file: Path
    sections: Mapping[str, Any] = field(default_factory=dict)

    def section(self, name: str) -> Mapping[str, Any]:
        """The table ``[name]``, or an empty one when absent."""
        value = self.sections.get(name, {})
        if not isinstance(value, dict):
            raise ConfigError(f"{self.file}: {name}: expected a table, got {type(value).__name__}")
        return value


def load_config(override: str | os.PathLike[str] | None = None) -> BrokerConfig:
    """Read ``broker.toml``; a syntax error names the file, line and column."""
    directory = config_dir(override)
    file = directory / "broker.toml"
    try:
        with file.open("rb") as handle:
            sections = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: invalid TOML: {exc}; fix the file and retry") from None
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc.strerror}") from None
    return BrokerConfig(directory=directory, file=file, sections=sections)
