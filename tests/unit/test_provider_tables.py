"""One reader of ``[providers.*]`` and ``[broker] default_provider``: every caller refuses a
malformed entry the same way (sign-in, ``config validate``, completion, the TUI)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from broker.config import ConfigIssues, load_config
from broker.config.providers import default_provider, provider_tables
from broker.signin import resolve_provider_name
from broker.sts.state_handle import StateHandle
from broker.tui.services import Services
from broker.tui.stored_identity import stored_identity
from tests.conftest import one_line

GOOD = """
[broker]
default_provider = "demo"

[providers.demo]
type = "embedded"

[providers.corp]
type = "oidc"
"""

NOT_A_TABLE = """
[providers]
corp = "https://idp.example.com"
partner = 5

[providers.demo]
type = "embedded"
"""


def _config(tmp_path: Path, text: str) -> Path:
    directory = tmp_path / "config"
    directory.mkdir()
    (directory / "broker.toml").write_text(text)
    return directory


def test_tables_by_name_in_file_order_and_the_default(tmp_path) -> None:
    config = load_config(_config(tmp_path, GOOD))
    assert list(provider_tables(config)) == ["demo", "corp"]
    assert provider_tables(config)["corp"]["type"] == "oidc"
    assert default_provider(config) == "demo"


def test_no_providers_and_no_default(tmp_path) -> None:
    config = load_config(_config(tmp_path, "[broker]\n"))
    assert provider_tables(config) == {}
    assert default_provider(config) is None


def test_every_entry_that_is_not_a_table_is_named(tmp_path) -> None:
    config = load_config(_config(tmp_path, NOT_A_TABLE))
    with pytest.raises(ConfigIssues) as caught:
        provider_tables(config)
    assert [issue.key for issue in caught.value.issues] == ["providers.corp", "providers.partner"]
    assert "expected a table, got str; write it as [providers.corp]" in str(caught.value)


@pytest.mark.parametrize("value", ["5", "true", '["demo"]'])
def test_a_default_provider_that_is_not_a_name_is_refused(tmp_path, value: str) -> None:
    config = load_config(_config(tmp_path, f"[broker]\ndefault_provider = {value}\n"))
    with pytest.raises(ConfigIssues, match=r"broker\.default_provider: expected a provider name"):
        default_provider(config)


def test_sign_in_the_tui_and_its_stored_identity_refuse_alike(tmp_path) -> None:
    directory = _config(tmp_path, NOT_A_TABLE)
    config = load_config(directory)
    expected = "providers.corp: expected a table"
    with pytest.raises(ConfigIssues, match=expected):
        resolve_provider_name(config, "demo")
    with pytest.raises(ConfigIssues, match=expected):
        Services(directory, StateHandle(tmp_path / "data", None)).providers()
    from datetime import UTC, datetime

    with pytest.raises(ConfigIssues, match=expected):
        stored_identity(directory, tmp_path / "data", datetime.now(UTC))


def test_the_tui_lists_providers_default_first(tmp_path) -> None:
    services = Services(_config(tmp_path, GOOD), StateHandle(tmp_path / "data", None))
    assert [(c.name, c.kind, c.default) for c in services.providers()] == [
        ("demo", "embedded", True),
        ("corp", "oidc", False),
    ]


def test_config_validate_reports_a_malformed_default_provider(tmp_path, run_broker) -> None:
    text = GOOD.replace('default_provider = "demo"', "default_provider = 5")
    result = run_broker(
        "config", "validate", "--json", env={"BROKER_CONFIG": str(_config(tmp_path, text))}
    )
    assert result.returncode == 1
    problems = {p["key"]: p["message"] for p in json.loads(result.stdout)}
    assert problems["broker.default_provider"] == "expected a provider name (a string), got int"


def test_login_names_the_malformed_entry_in_one_line(tmp_path, run_broker) -> None:
    result = run_broker("login", "demo", env={"BROKER_CONFIG": str(_config(tmp_path, NOT_A_TABLE))})
    assert result.returncode == 3
    line = one_line(result.stderr)
    assert "providers.corp: expected a table" in line and "(and 1 more" in line
