"""A capture-only SAML provider (``aws_federation = true``, no ``sso_url``) through the real
CLI: the configuration is valid without the IdP's SSO endpoint, and every headless refusal
names the command that works for it — ``broker login corp --saml-response -`` — never the
plain ``broker login corp``, which such a provider refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import RunBroker, one_line

pytestmark = [pytest.mark.keyring, pytest.mark.integration]

CAPTURE = "run `broker login corp --saml-response -` and paste the SAMLResponse value"


@pytest.fixture
def capture_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broker_home: Path) -> Path:
    from tests.saml_forge import make_keypair

    directory = tmp_path / "config"
    directory.mkdir()
    (directory / "idp.pem").write_bytes(make_keypair("idp.example.test").cert_pem)
    (directory / "broker.toml").write_text(
        '[broker]\ndefault_provider = "corp"\n\n'
        '[providers.corp]\ntype = "saml"\nidp_entity_id = "https://idp.example.test/saml"\n'
        'idp_certificate = "idp.pem"\naws_federation = true\n\n'
        '[profiles.dev]\nminter = "aws-saml"\nrole_arn = "arn:aws:iam::111122223333:role/Dev"\n'
    )
    monkeypatch.setenv("BROKER_CONFIG", str(directory))
    return directory


def test_no_sso_url_is_needed_and_each_refusal_names_the_capture(
    secret_service: None, capture_only: Path, run_broker: RunBroker
) -> None:
    validated = run_broker("config", "validate")
    assert validated.returncode == 0, validated.stderr
    assert "providers.corp.sso_url" not in validated.stdout + validated.stderr

    for args in (
        ("credential-process", "--profile", "dev"),
        ("assignments", "--provider", "corp"),
        ("login", "corp"),  # the loopback flow: refused, naming what works instead
    ):
        refused = run_broker(*args)
        assert refused.returncode != 0 and refused.stdout == "", args
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
        assert CAPTURE in one_line(refused.stderr), (args, refused.stderr)


def test_a_loopback_saml_provider_still_needs_its_sso_url(
    capture_only: Path, run_broker: RunBroker
) -> None:
    toml = capture_only / "broker.toml"
    toml.write_text(
        toml.read_text()
        .replace("aws_federation = true\n", 'sp_entity_id = "urn:example:broker"\n')
        .split("[profiles.dev]")[0]
    )
    validated = run_broker("config", "validate")
    assert validated.returncode != 0
    said = validated.stdout + validated.stderr
    line = next((row for row in said.splitlines() if ".sso_url" in row), said)
    assert "providers.corp.sso_url" in line and "required key is missing" in line, line
