"""Strict config tables: unknown keys and wrong types are reported all at once, with keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pytest

from broker.config import ConfigIssues, config_dir, from_table, load_config
from broker.errors import ConfigError


@dataclass(frozen=True)
class Inner:
    url: str
    timeout: float = 10.0


@dataclass(frozen=True)
class Outer:
    kind: Literal["oidc", "saml"]
    scopes: tuple[str, ...] = ()
    inner: Inner | None = None
    enabled: bool = True


def test_valid_table_builds_the_dataclass() -> None:
    value, issues = from_table(
        Outer,
        {"kind": "oidc", "scopes": ["openid"], "inner": {"url": "u", "timeout": 3}},
        file="broker.toml",
    )
    assert issues == []
    assert value == Outer(kind="oidc", scopes=("openid",), inner=Inner(url="u", timeout=3.0))


def test_every_problem_is_reported_with_file_and_key() -> None:
    value, issues = from_table(
        Outer,
        {"kind": "ldap", "scopes": "openid", "inner": {"timeout": "x", "extra": 1}, "enabled": 1},
        file="broker.toml",
        prefix="providers.corp",
    )
    assert value is None
    rendered = sorted(str(issue) for issue in issues)
    assert rendered == sorted(
        [
            "broker.toml: providers.corp.kind: must be one of 'oidc', 'saml', got 'ldap'",
            "broker.toml: providers.corp.scopes: expected a list, got str",
            "broker.toml: providers.corp.inner.extra: unknown key (known: timeout, url)",
            "broker.toml: providers.corp.inner.timeout: expected float, got str",
            "broker.toml: providers.corp.inner.url: required key is missing",
            "broker.toml: providers.corp.enabled: expected bool, got int",
        ]
    )


def test_config_issues_summarise_on_one_line() -> None:
    _value, issues = from_table(Outer, {"kind": "x", "enabled": "no"}, file="f.toml")
    error = ConfigIssues(issues)
    assert "\n" not in str(error)
    assert "and 1 more" in str(error)


def test_missing_config_dir_is_a_clear_error(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("BROKER_CONFIG", str(tmp_path))
    with pytest.raises(ConfigError, match=r"no broker\.toml in"):
        config_dir()


def test_invalid_toml_names_the_file(tmp_path, monkeypatch) -> None:
    (tmp_path / "broker.toml").write_text("[broker\n")
    monkeypatch.setenv("BROKER_CONFIG", str(tmp_path))
    with pytest.raises(ConfigError, match=r"broker.toml: invalid TOML"):
        load_config()


def test_shipped_config_loads(monkeypatch) -> None:
    monkeypatch.delenv("BROKER_CONFIG", raising=False)
    config = load_config()
    assert config.section("broker")["default_provider"] == "demo"
