"""``broker saml metadata PROVIDER`` as a real process: XML on stdout, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from broker.commands.saml import MetadataInput, run_metadata
from broker.errors import ConfigError, UsageError
from tests.conftest import one_line
from tests.saml_forge import make_keypair

MD = "{urn:oasis:names:tc:SAML:2.0:metadata}"


@pytest.fixture
def saml_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broker_home: Path) -> Path:
    config = tmp_path / "config"
    config.mkdir()
    (config / "idp.pem").write_bytes(make_keypair().cert_pem)
    (config / "broker.toml").write_text(
        """
[providers.corp]
type = "saml"
idp_entity_id = "https://idp.example.com/metadata"
sso_url = "https://idp.example.com/sso"
idp_certificate = "idp.pem"
sp_entity_id = "urn:example:access-broker"
acs_port = 8765

[providers.other]
type = "embedded"
"""
    )
    monkeypatch.setenv("BROKER_CONFIG", str(config))
    return config


def test_metadata_printed_on_stdout(run_broker, saml_config) -> None:
    result = run_broker("saml", "metadata", "corp", env={"BROKER_CONFIG": str(saml_config)})
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    root = etree.fromstring(result.stdout.encode())
    assert root.get("entityID") == "urn:example:access-broker"
    acs = root.find(f"{MD}SPSSODescriptor/{MD}AssertionConsumerService")
    assert acs.get("Location") == "http://127.0.0.1:8765/saml/acs"


def test_unknown_provider_is_a_config_error(run_broker, saml_config) -> None:
    result = run_broker("saml", "metadata", "nope", env={"BROKER_CONFIG": str(saml_config)})
    assert result.returncode == ConfigError.exit_code
    line = one_line(result.stderr)
    assert "'nope'" in line and "corp" in line
    assert result.stdout == ""


def test_non_saml_provider_is_a_usage_error(saml_config) -> None:
    with pytest.raises(UsageError, match='type = "saml"'):
        run_metadata(MetadataInput(provider="other"))


def test_invalid_saml_settings_are_reported_with_their_key(saml_config) -> None:
    text = (saml_config / "broker.toml").read_text().replace("acs_port = 8765", "acs_port = -1")
    (saml_config / "broker.toml").write_text(text)
    with pytest.raises(ConfigError, match=r"providers\.corp\.acs_port"):
        run_metadata(MetadataInput(provider="corp"))


def test_saml_without_subcommand_says_what_to_add(run_broker) -> None:
    result = run_broker("saml")
    assert result.returncode == UsageError.exit_code
    assert "metadata" in one_line(result.stderr)


def test_a_provider_that_is_not_a_table_is_named_as_such(saml_config) -> None:
    (saml_config / "broker.toml").write_text('[providers]\ncorp = "saml"\n')
    with pytest.raises(ConfigError) as caught:
        run_metadata(MetadataInput(provider="corp"))
    message = str(caught.value)
    assert "providers.corp" in message and "table" in message
    assert "no provider" not in message
