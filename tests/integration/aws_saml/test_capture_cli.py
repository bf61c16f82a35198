"""The capture path through the real CLI: ``broker login NAME --saml-response`` keeps the
response a person copied in the real keyring; the real AWS CLI gets the role through
``credential-process`` (moto's STS answering AssumeRoleWithSAML); replays, shared files and
responses addressed elsewhere are refused in one line; an expired assertion asks for a new
sign-in headlessly; a long response pasted into a terminal is read whole and not echoed."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from broker.store.credential_store import CredentialStore
from tests.conftest import REPO, RunBroker
from tests.integration.aws_saml.support import (
    DANA_ACCOUNT,
    DANA_PRINCIPAL,
    DANA_ROLE,
    attack_sample,
    captured,
)
from tests.integration.federation_support import caller_identity
from tests.integration.saml_peer import RunningIdP
from tests.saml_forge import KeyPair

pytestmark = pytest.mark.integration


@pytest.mark.keyring
def test_aws_cli_gets_the_role_and_an_expired_assertion_asks_for_login(
    cli_store: CredentialStore,
    tmp_path: Path,
    idp: RunningIdP,
    moto_federation: str,
    run_broker: RunBroker,
) -> None:
    store = cli_store
    # Without the captured response, no AuthnRequest goes out: one line naming the capture.
    loopback = run_broker("login", "corp")
    assert loopback.returncode != 0 and loopback.stdout == ""
    (line,) = loopback.stderr.strip().splitlines()
    assert "--saml-response" in line and store.session("corp") is None

    response = captured(idp, "dana")
    login = run_broker("login", "corp", "--saml-response", "-", input=response + "\n")
    assert login.returncode == 0, login.stderr
    assert "Signed in to corp as dana@example.com" in login.stderr
    assert response not in login.stderr + login.stdout
    # The same response again is a replay: refused, the stored sign-in untouched.
    before = store.session("corp")
    replayed = run_broker("login", "corp", "--saml-response", "-", input=response)
    assert replayed.returncode != 0
    (line,) = replayed.stderr.strip().splitlines()
    assert "replay" in line and response not in line
    assert store.session("corp") == before

    who = caller_identity(tmp_path, "dev", moto_federation)
    assert who.returncode == 0, who.stderr
    assert json.loads(who.stdout)["Arn"] == f"arn:aws:sts::{DANA_ACCOUNT}:assumed-role/Dev/dana"
    queried = run_broker("audit", "query", "--event", "AssumeRoleWithSAML")
    assert queried.returncode == 0, queried.stderr
    (event,) = [json.loads(line) for line in queried.stdout.splitlines() if line.strip()]
    assert event["requestParameters"]["RoleArn"] == DANA_ROLE
    assert event["requestParameters"]["PrincipalArn"] == DANA_PRINCIPAL
    stored = store.session("corp")
    assert stored is not None and stored.saml_response is not None
    assert stored.saml_response not in queried.stdout

    # The assertion has passed its NotOnOrAfter and the credentials are gone: a headless
    # credential process says to sign in again, in one line, and never prompts.
    store.save_session(
        "corp", dataclasses.replace(stored, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    )
    # The refresher, finding the cached credentials inside their refresh window, stops for
    # this profile with the same one line (no prompt, no retry loop).
    cached = store.credentials("dev")
    assert cached is not None
    soon = dataclasses.replace(cached, expiration=datetime.now(UTC) + timedelta(minutes=5))
    store.save_credentials(
        "dev", provider="corp", account=DANA_ACCOUNT, role="Dev", credentials=soon,
        minter="aws-saml",
    )  # fmt: skip
    refreshed = run_broker("refresh", "--profile", "dev")
    assert refreshed.returncode == 1, refreshed.stderr
    assert refreshed.stderr.strip().splitlines() == [
        "broker: dev: stopped refreshing: the corp session has ended: run `broker login corp "
        "--saml-response -` and paste the SAMLResponse value captured on its way to AWS (or "
        "give a file instead of -)"
    ]
    store.forget_profile("dev")
    refused = run_broker("credential-process", "--profile", "dev")
    assert refused.returncode != 0 and refused.stdout == ""
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "`broker login corp --saml-response -`" in lines[0], refused.stderr


@pytest.mark.keyring
def test_a_captured_response_file_must_be_private_and_addressed_to_aws(
    cli_store: CredentialStore,
    tmp_path: Path,
    idp: RunningIdP,
    idp_keys: KeyPair,
    moto_federation: str,
    run_broker: RunBroker,
) -> None:
    store = cli_store
    saved = tmp_path / "response.txt"
    saved.write_text(captured(idp, "dana"))
    os.chmod(saved, 0o644)
    shared = run_broker("login", "corp", "--saml-response", str(saved))
    assert shared.returncode != 0
    (line,) = shared.stderr.strip().splitlines()
    assert f"chmod 600 {saved}" in line and store.session("corp") is None

    # Addressed to our loopback (what an IdP posting to a requested ACS would send): refused
    # before anything is stored, so it can never reach AWS.
    loopback = tmp_path / "loopback.txt"
    loopback.write_text(attack_sample("to-loopback", idp_keys))
    os.chmod(loopback, 0o600)
    refused = run_broker("login", "corp", "--saml-response", str(loopback))
    assert refused.returncode != 0
    (line,) = refused.stderr.strip().splitlines()
    assert "Destination" in line and store.session("corp") is None

    os.chmod(saved, 0o600)
    accepted = run_broker("login", "corp", "--saml-response", str(saved))
    assert accepted.returncode == 0, accepted.stderr
    who = caller_identity(tmp_path, "dev", moto_federation)
    assert who.returncode == 0, who.stderr
    assert json.loads(who.stdout)["Arn"] == f"arn:aws:sts::{DANA_ACCOUNT}:assumed-role/Dev/dana"


@pytest.mark.keyring
def test_a_long_response_pasted_into_a_terminal_is_read_whole_and_not_echoed(
    cli_store: CredentialStore, tmp_path: Path, idp: RunningIdP
) -> None:
    """A terminal's line editing keeps 4095 characters of a line; a response is longer."""
    import pty
    import selectors

    response = captured(idp, "dana")
    assert len(response) > 4096
    master, slave = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with subprocess.Popen(
        [sys.executable, "-m", "broker", "login", "corp", "--saml-response", "-"],
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    ) as process:
        os.close(slave)
        assert process.stderr is not None
        for _ in range(20):  # the prompt comes once echo and line editing are off
            prompt = process.stderr.readline().decode()
            if not prompt or "Paste the SAMLResponse" in prompt:
                break
        assert "Paste the SAMLResponse" in prompt
        os.write(master, response.encode() + b"\r")
        out, err = process.communicate(timeout=60)
        echoed = b""
        selector = selectors.DefaultSelector()
        selector.register(master, selectors.EVENT_READ)
        while selector.select(timeout=0.5):
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            echoed += chunk
        os.close(master)
    assert process.returncode == 0, err.decode()
    assert "Signed in to corp as dana@example.com" in err.decode()
    assert response[:64].encode() not in echoed + out + err
    assert cli_store.session("corp") is not None
