"""Where configuration and data live, and reading ``broker.toml``.

The configuration directory is the first of (docs/configuration.md, "Where the configuration
is found"):

1. ``--config DIR`` / ``$BROKER_CONFIG``: must hold a ``broker.toml``, else an error (a name
   the user typed is never silently replaced by another directory);
2. the user's configuration directory (``platformdirs.user_config_dir``: ``~/.config/
   access-broker`` on Linux per XDG, ``~/Library/Application Support/access-broker`` on macOS,
   ``%LOCALAPPDATA%\\access-broker`` on Windows) when it holds a ``broker.toml`` (``broker init``
   writes one there);
3. the packaged demo: ``broker/defaults`` in an installed wheel (a copy of the repository's
   ``config/`` made at build time), or ``config/`` itself in a source checkout.

``BROKER_HOME`` names the data directory (SQLite, index, audit log); by default the platform's
user data directory.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from broker.data_location import APP_NAME as _APP
from broker.data_location import data_dir
from broker.errors import ConfigError

__all__ = [
    "BrokerConfig",
    "config_dir",
    "data_dir",
    "load_config",
    "packaged_config_dir",
    "user_config_dir",
]

_PACKAGE = Path(__file__).resolve().parent.parent
# Installed wheels carry the demo configuration inside the package (setup.py copies config/);
# a source checkout (and an editable install) reads the repository's config/ directly.
_PACKAGED_CONFIG = _PACKAGE / "defaults"
_CHECKOUT_CONFIG = _PACKAGE.parent / "config"


def packaged_config_dir() -> Path:
    """The demo configuration that ships with the broker (step 3 of the lookup order)."""
    if (_PACKAGED_CONFIG / "broker.toml").is_file():
        return _PACKAGED_CONFIG
    return _CHECKOUT_CONFIG


def user_config_dir() -> Path:
    """The per-user configuration directory (``broker init`` writes here), not created here."""
    import platformdirs  # imported here: only commands that read configuration need it

    return Path(platformdirs.user_config_dir(_APP, appauthor=False))


def config_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The configuration directory, by the lookup order of this module's docstring.

    Raises:
        ConfigError: a directory named by ``override``/``$BROKER_CONFIG`` has no broker.toml,
            or the packaged demo is missing (a broken install).
    """
    chosen = override or os.environ.get("BROKER_CONFIG")
    if chosen:
        path = Path(chosen).expanduser()
        if not (path / "broker.toml").is_file():
            raise ConfigError(
                f"no broker.toml in {path}: point BROKER_CONFIG (or --config) at a configuration "
                "directory, or run `broker init` to write one"
            )
        return path
    user = user_config_dir()
    if (user / "broker.toml").is_file():
        return user
    packaged = packaged_config_dir()
    if not (packaged / "broker.toml").is_file():
        raise ConfigError(
            f"no broker.toml in {user} and the packaged demo configuration is missing "
            f"({packaged}): run `broker init`, or reinstall the broker"
        )
    return packaged


def configured_database_url() -> str | None:
    """The state database this process was given (``$BROKER_DATABASE_URL``, which the CLI sets
    from ``--database-url``), or ``None`` for the embedded SQLite in the data directory."""
    return os.environ.get("BROKER_DATABASE_URL") or None


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
