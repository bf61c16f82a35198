"""Which database: the configured URL, else SQLite in the data directory.

The front end (CLI entry, ``broker serve``, the TUI) reads the configured URL once
(``--database-url`` or ``$BROKER_DATABASE_URL``) and passes it here as a value.

Accepted: ``postgresql://user:password@host:port/db?sslmode=...`` (also ``postgres://``) and
``sqlite:///absolute/path.db``. A password may sit in the URL (from the environment or a
secret manager, never from broker.toml); ``redacted`` hides it wherever a URL is shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from broker.errors import ConfigError

__all__ = ["DatabaseUrl", "database_url", "embedded_url", "redacted"]

Dialect = Literal["sqlite", "postgresql"]


@dataclass(frozen=True)
class DatabaseUrl:
    """A checked database URL. ``url`` may hold a password: show ``redacted(url)`` instead."""

    dialect: Dialect
    url: str

    @property
    def sqlite_path(self) -> str:
        """The file of a ``sqlite:///`` URL."""
        return urlsplit(self.url).path

    def __repr__(self) -> str:
        return f"DatabaseUrl({self.dialect!r}, {redacted(self.url)!r})"


def redacted(url: str) -> str:
    """``url`` with any password replaced by ``***``."""
    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def embedded_url(data_dir: Path) -> DatabaseUrl:
    """The embedded SQLite database of ``data_dir``: ``<data>/broker.db``."""
    return DatabaseUrl("sqlite", f"sqlite://{(data_dir / 'broker.db').absolute()}")


def database_url(configured: str | None, data_dir: Path | None = None) -> DatabaseUrl:
    """The database to use: ``configured`` (a URL), else the embedded one of ``data_dir``.

    Raises:
        ConfigError: an unsupported scheme or a relative SQLite path, or neither given.
    """
    chosen = configured
    if not chosen:
        if data_dir is None:
            raise ConfigError("no database configured and no data directory to hold one")
        return embedded_url(data_dir)
    try:
        parts = urlsplit(chosen)
        parts.port  # noqa: B018 - validates the port
    except ValueError:
        raise ConfigError(
            f"database URL {redacted(chosen)!r} is malformed; fix BROKER_DATABASE_URL"
        ) from None
    if parts.scheme in ("postgresql", "postgres"):
        return DatabaseUrl("postgresql", chosen)
    if parts.scheme == "sqlite":
        if not parts.path.startswith("/") or parts.netloc:
            raise ConfigError("a sqlite URL needs an absolute path: sqlite:///path/to/broker.db")
        return DatabaseUrl("sqlite", chosen)
    raise ConfigError(
        f"database URL scheme {parts.scheme!r} is not supported; use postgresql:// or sqlite:///"
    )
