"""Choosing the database, and never showing its password."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from broker.errors import ConfigError
from broker.storage.clock import from_micros, micros
from broker.storage.url import database_url, redacted


def test_default_is_sqlite_in_the_data_dir(broker_home: Path) -> None:
    chosen = database_url(None, broker_home)
    assert chosen.dialect == "sqlite"
    assert chosen.sqlite_path == str(broker_home / "broker.db")


def test_the_configured_url_is_a_value_never_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BROKER_DATABASE_URL", "postgresql://broker:pw@db.example:5432/broker")
    assert database_url(None, tmp_path).dialect == "sqlite"
    assert database_url("postgresql://h/db", tmp_path).dialect == "postgresql"
    assert database_url("sqlite:///tmp/x.db").dialect == "sqlite"


@pytest.mark.parametrize(
    "url", ["mysql://h/db", "sqlite://relative.db", "sqlite:///", "postgresql://h:notaport/db"]
)
def test_unsupported_urls_refused_without_password(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        database_url(url.replace("//", "//u:hunter2@", 1) if "@" not in url else url)
    assert "hunter2" not in str(caught.value)


def test_password_redacted_everywhere_it_is_shown() -> None:
    url = "postgresql://broker:s3cret-pw@db.example:5432/broker?sslmode=require"
    assert redacted(url) == "postgresql://broker:***@db.example:5432/broker?sslmode=require"
    assert "s3cret" not in repr(database_url(url))
    assert redacted("sqlite:///x.db") == "sqlite:///x.db"


def test_micros_round_trip_and_refuse_naive_times() -> None:
    when = datetime(2026, 11, 27, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    assert from_micros(micros(when)) == when.astimezone(UTC)
    with pytest.raises(ValueError):
        micros(datetime(2026, 1, 1))
