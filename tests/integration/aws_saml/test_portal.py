"""The portal over a SAML sign-in straight into AWS: the roles the assertion lists, through
``broker assignments``, ``broker configure aws``, the terminal app's mint and the terminal
app in tmux, each ending in a profile the real AWS CLI uses (moto's STS answering)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from broker.signin import LoginInput, run_login
from broker.store.credential_store import CredentialStore
from providers.testing import SilentUI
from tests.conftest import RunBroker
from tests.integration.aws_saml.support import (
    DANA_ACCOUNT,
    DANA_PRINCIPAL,
    DANA_ROLE,
    captured,
    portal_config,
    saml_provider,
)
from tests.integration.federation_support import caller_identity
from tests.integration.saml_peer import RunningIdP

pytestmark = pytest.mark.integration


@pytest.mark.keyring
def test_the_portal_lists_the_assertion_roles_and_configure_aws_writes_working_profiles(
    secret_service: None,
    broker_home: Path,
    tmp_path: Path,
    idp: RunningIdP,
    moto_federation: str,
    run_broker: RunBroker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = portal_config(tmp_path / "config", idp, moto_federation)
    monkeypatch.setenv("BROKER_CONFIG", str(config))
    provider = saml_provider(idp, tmp_path / "sp")
    run_login(
        LoginInput(provider="corp", saml_response=captured(idp, "dana")),
        store=CredentialStore(broker_home),
        build=lambda _n: provider,
        ui=SilentUI(),
    )

    listed = run_broker("assignments", "--provider", "corp", "--json")
    assert listed.returncode == 0, listed.stderr
    (role,) = json.loads(listed.stdout)["assignments"]
    assert (role["account_name"], role["role_name"], role["role_arn"]) == (
        DANA_ACCOUNT,  # no directory here: the account is shown by its id
        "Dev",
        DANA_ROLE,
    )
    assert role["principal_arn"] == DANA_PRINCIPAL and role["max_session_duration"] == 3600

    aws_config = tmp_path / "aws" / "config"
    configured = run_broker(
        "configure", "aws", "--file", str(aws_config), "--region", "us-east-1",
        "--command-path", f"{sys.executable} -m broker",
    )  # fmt: skip
    assert configured.returncode == 0, configured.stderr
    name = f"{DANA_ACCOUNT}.Dev"
    assert f"[profile {name}]" in aws_config.read_text()
    who = caller_identity(tmp_path, name, moto_federation, aws_config)
    assert who.returncode == 0, who.stderr
    assert json.loads(who.stdout)["Arn"] == f"arn:aws:sts::{DANA_ACCOUNT}:assumed-role/Dev/dana"

    refused = run_broker("assignments", "--provider", "nope")
    assert refused.returncode != 0 and len(refused.stderr.strip().splitlines()) == 1


@pytest.mark.keyring
def test_the_terminal_app_mints_a_role_picked_from_the_assertion(
    secret_service: None,
    broker_home: Path,
    tmp_path: Path,
    idp: RunningIdP,
    moto_federation: str,
    run_broker: RunBroker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from broker.sts.state_handle import StateHandle
    from broker.tui.directory_data import portal_roles
    from broker.tui.model import MintChoice
    from broker.tui.session_ops import mint_profile

    config = portal_config(tmp_path / "config", idp, moto_federation)
    monkeypatch.setenv("BROKER_CONFIG", str(config))
    identity = saml_provider(idp, tmp_path / "sp").accept_captured(captured(idp, "dana"))
    CredentialStore(broker_home).save_session("corp", identity)

    state = StateHandle(broker_home, None)
    (role,) = portal_roles(config, state, identity)
    assert (role.account_id, role.role_name, role.via) == (DANA_ACCOUNT, "Dev", "assertion:corp")
    outcome = mint_profile(config, state, identity, role, MintChoice(seconds=3600))
    assert outcome.profile == f"{DANA_ACCOUNT}.Dev"
    # The profile the terminal app recorded is served to the AWS CLI from the cache.
    who = caller_identity(tmp_path, outcome.profile, moto_federation)
    assert who.returncode == 0, who.stderr
    assert json.loads(who.stdout)["Arn"] == f"arn:aws:sts::{DANA_ACCOUNT}:assumed-role/Dev/dana"
    queried = run_broker("audit", "query", "--event", "AssumeRoleWithSAML")
    assert len([line for line in queried.stdout.splitlines() if line.strip()]) == 1


@pytest.mark.keyring
def test_in_tmux_the_portal_lists_and_mints_the_assertion_role(
    secret_service: None,
    broker_home: Path,
    tmp_path: Path,
    idp: RunningIdP,
    moto_federation: str,
) -> None:
    import uuid

    from tests.integration.test_tui_tmux import Tmux, open_broker

    config = portal_config(tmp_path / "config", idp, moto_federation)
    identity = saml_provider(idp, tmp_path / "sp").accept_captured(captured(idp, "dana"))
    CredentialStore(broker_home).save_session("corp", identity)
    app = Tmux(f"broker-aws-saml-{uuid.uuid4().hex[:8]}")
    open_broker(app, broker_home, config)
    try:
        app.wait_for("Welcome to Access Broker", timeout=40)
        app.keys("Escape")
        app.wait_for("dana@example.com", timeout=40)
        app.wait_for("assertion:corp", timeout=40)  # the role's "via" in the portal
        # No directory is configured, and none is needed (the IdP decides): no error overlay.
        assert "Configuration:" not in app.screen()
        app.keys("m")
        app.wait_for("Mint", timeout=20)
        app.keys("Enter")
        app.wait_for("credential_process", timeout=60)
        app.keys("q")
    finally:
        subprocess.run(["tmux", "-L", app.socket, "kill-server"], capture_output=True, timeout=10)
    name = f"{DANA_ACCOUNT}.Dev"
    who = caller_identity(tmp_path, name, moto_federation)
    assert who.returncode == 0, who.stderr
    assert json.loads(who.stdout)["Arn"] == f"arn:aws:sts::{DANA_ACCOUNT}:assumed-role/Dev/dana"
