"""Which database: ``--database-url``, else ``$BROKER_DATABASE_URL``, else SQLite in the data dir.

Accepted: ``postgresql://user:password@host:port/db?sslmode=...`` (also ``postgres://``) and
``sqlite:///absolute/path.db``. A password may sit in the URL (from the environment or a
secret manager, never from broker.toml); ``redacted`` hides it wherever a URL is shown.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from broker.errors import ConfigError

__all__ = ["DatabaseUrl", "database_url", "redacted"]

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


def database_url(override: str | None = None) -> DatabaseUrl:
    """The database to use (see the module docstring).

    Raises:
        ConfigError: an unsupported scheme or a relative SQLite path.
    """
    chosen = override or os.environ.get("BROKER_DATABASE_URL")
    if not chosen:
        from broker.config.loader import data_dir

        return DatabaseUrl("sqlite", f"sqlite://{(data_dir() / 'broker.db').absolute()}")
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
