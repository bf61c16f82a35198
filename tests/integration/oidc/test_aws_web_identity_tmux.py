"""OIDC straight into AWS from the real ``broker`` in a real terminal (tmux): sign in at the
``oidc-provider`` peer from the sign-in screen (``$BROWSER`` is a script that walks the peer's
login pages, as the person would), pick the role in the portal — an ID token names no roles, so
the portal lists the ``aws-web-identity`` profiles configured for the provider — mint it
(AssumeRoleWithWebIdentity at moto's STS), then the real AWS CLI uses it through
``credential_process``, served from what the app minted."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from broker.store.credential_store import CredentialStore
from tests.conftest import RunBroker
from tests.integration import provider_setup_support as support
from tests.integration.federation_support import caller_identity
from tests.integration.oidc.conftest import Peer
from tests.integration.oidc.test_aws_web_identity_cli import _mints
from tests.integration.tmux_support import (
    back_to_portal,
    peer_browser,
    quit_cleanly,
    welcome_seen,
)

pytestmark = [pytest.mark.keyring, pytest.mark.integration]

ROLE_ARN = "arn:aws:iam::111122223333:role/WebDeployer"


def test_sign_in_pick_mint_and_aws_cli_in_a_real_terminal(
    oidc_peer: Peer,
    moto_federation: str,
    secret_service: None,
    run_broker: RunBroker,
    broker_home: Path,
    tmp_path: Path,
) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "broker.toml").write_text(
        '[broker]\ndefault_provider = "peer"\n\n'
        f'[providers.peer]\ntype = "oidc"\nissuer = "{oidc_peer.issuer}"\n'
        'client_id = "broker-rs256"\naws_federation = true\n\n'
        f'[profiles.deploy]\nminter = "aws-web-identity"\nrole_arn = "{ROLE_ARN}"\n'
        f'endpoint_url = "{moto_federation}"\n'
    )
    welcome_seen(broker_home)
    browser, opened = peer_browser(tmp_path)
    env = {"BROKER_HOME": str(broker_home), "BROKER_CONFIG": str(config), **browser}
    with support.broker_in_tmux(env) as tmux:
        tmux.wait_for("Not signed in", timeout=30)
        tmux.keys("s")
        tmux.wait_for("peer  [oidc]")
        tmux.keys("Enter")
        shown = tmux.wait_for("Accounts(1/1)", timeout=60)
        assert "Signed in as alice@example.com through peer" in shown
        assert opened.read_text().startswith(oidc_peer.issuer)
        row = next(line for line in shown.splitlines() if "WebDeployer" in line)
        assert "1111 2222 3333" in row, row
        tmux.keys("m")
        tmux.wait_for("Mint WebDeployer")
        time.sleep(0.5)  # the dialog focuses its duration field once mounted
        tmux.keys("Enter")  # the default, 1h
        shown = tmux.wait_for("credential_process (recommended)", timeout=40)
        assert "--profiledeploy" in "".join(shown.split())  # the configured profile mints it
        assert "1 live" in back_to_portal(tmux)
        quit_cleanly(tmux)

    cached = CredentialStore(broker_home).credentials("deploy")
    assert cached is not None
    who = caller_identity(tmp_path, "deploy", moto_federation)
    assert who.returncode == 0, who.stderr
    assert json.loads(who.stdout)["Arn"] == (
        "arn:aws:sts::111122223333:assumed-role/WebDeployer/alice@example.com"
    )
    after = CredentialStore(broker_home).credentials("deploy")
    assert after is not None and after.access_key_id == cached.access_key_id  # the app's mint
    (event,) = _mints(run_broker)
    assert event["requestParameters"]["RoleArn"] == ROLE_ARN
