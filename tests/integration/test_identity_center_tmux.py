"""IAM Identity Center from the real ``broker`` in a real terminal (tmux): sign in from the
sign-in screen with the device code (read off the screen and approved by the test at the
loopback fake's approval endpoint, as the person would in a browser), pick a role in the
portal, mint it, then the real AWS CLI uses it through ``credential_process`` — served from
what the app minted, with credentials the fake got from moto's STS."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest

from broker.store.credential_store import CredentialStore
from tests.integration import provider_setup_support as support
from tests.integration.moto_peer import MotoPeer
from tests.integration.sso_peer import RunningFake
from tests.integration.test_identity_center_cli import (  # noqa: F401 (fixtures)
    assert_aws_cli_uses,
    env,
    peer,
)
from tests.integration.tmux_support import back_to_portal, quit_cleanly, welcome_seen

pytestmark = [pytest.mark.keyring, pytest.mark.integration]

ACCOUNT = "111122223333"  # payments-dev, where casey holds Developer and ReadOnly
USER_CODE = re.compile(r"\b([0-9A-F]{4}-[0-9A-F]{4})\b")


def test_device_sign_in_pick_mint_and_aws_cli_in_a_real_terminal(
    env: dict[str, str],  # noqa: F811
    peer: RunningFake,  # noqa: F811
    moto_peer: MotoPeer,
    broker_home: Path,
) -> None:
    welcome_seen(broker_home)
    shared = ("BROKER_HOME", "BROKER_CONFIG", "HOME", "AWS_CONFIG_FILE")
    with support.broker_in_tmux({name: env[name] for name in shared}) as tmux:
        tmux.wait_for("Not signed in", timeout=30)
        tmux.keys("s")
        tmux.wait_for("work  [aws-identity-center]")
        tmux.keys("Enter")  # Identity Center signs in with a device code either way
        shown = tmux.wait_for("check the code matches", timeout=30)
        code = USER_CODE.search(shown.split("check the code matches", 1)[1])
        assert code is not None, shown
        assert "code expires in" in tmux.wait_for("code expires in")
        httpx.post(
            f"{peer.url}/_fake/approve", json={"user_code": code.group(1), "user": "casey"}
        ).raise_for_status()
        shown = tmux.wait_for("Accounts(3/3)", timeout=40)
        assert "payments-prod" in shown and "sandbox" in shown
        tmux.keys("/")
        time.sleep(0.3)
        tmux.keys(ACCOUNT)
        tmux.wait_for("Accounts(1/3)")
        tmux.keys("Enter")
        time.sleep(0.3)
        tmux.keys("m")
        shown = tmux.wait_for("Mint ", timeout=20)
        time.sleep(0.5)  # the dialog focuses its first field once mounted
        tmux.keys("Enter")  # Identity Center sets the length: nothing to choose
        shown = tmux.wait_for("credential_process (recommended)", timeout=40)
        flat = "".join(shown.split())
        minted = re.search(r"--profile(payments-dev\.(?:Developer|ReadOnly))", flat)
        assert minted is not None, shown
        profile = minted.group(1)
        shown = back_to_portal(tmux)
        assert "Accounts(1/3)" in shown and "1 live" in shown
        quit_cleanly(tmux)
    assert peer.fake.count("GetRoleCredentials") == 1
    cached = CredentialStore(broker_home).credentials(profile)
    assert cached is not None

    assert_aws_cli_uses(env, moto_peer, profile)
    assert peer.fake.count("GetRoleCredentials") == 1  # served from what the app minted
