"""The embedded development IdP's ID tokens at ``broker serve`` and at the local minter:
``broker login demo --user-hint alice`` as a real process, then the stored ID token handed to
the real AWS CLI's ``assume-role-with-web-identity`` against ``broker serve`` on the same data
directory, which verifies it against the public keys the issuer published there."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from broker.minters.base import MintRequest
from broker.minters.local import AssignedUser, LocalMinter
from broker.store.credential_store import CredentialStore
from broker.sts.directory_source import DirectoryPrincipals
from broker.sts.directory_state import open_directory
from broker.sts.session_token import verify_session
from broker.sts.web_identity import WebIdentityVerifier
from providers.registry import local_keys
from tests.conftest import CONFIG
from tests.integration.conftest import start_server, stop_server
from tests.state_support import audit_events, embedded_state

pytestmark = [pytest.mark.keyring, pytest.mark.integration]

SANDBOX = "666666666666"
ROLE = f"arn:aws:iam::{SANDBOX}:role/demo-web-identity"
AWS = Path(sys.executable).with_name("aws")


def forged(token: str) -> str:
    """The same header (kid) and claims, signed by a key the issuer never had."""
    header, payload, _ = token.split(".")
    decode = lambda part: json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # noqa: E731
    return jwt.encode(decode(header), decode(payload), ECKey.generate_key("P-256"))


def cli(url: str, token: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    return subprocess.run(
        [
            str(AWS), "sts", "assume-role-with-web-identity", "--endpoint-url", url,
            "--role-arn", ROLE, "--role-session-name", "demo-session",
            "--web-identity-token", token, "--duration-seconds", "900", "--output", "json",
        ],
        capture_output=True, text=True, env=env, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_demo_login_token_assumes_the_demo_role_at_serve_and_locally(
    secret_service: None, broker_home: Path, tmp_path: Path, run_broker
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    login = run_broker("login", "demo", "--user-hint", "alice", env={"HOME": str(home)})
    assert login.returncode == 0, login.stderr
    session = CredentialStore(broker_home).session("demo")
    assert session is not None and session.id_token
    token = session.id_token

    process, server = start_server(broker_home, CONFIG)
    try:
        ok = cli(server.url, token)
        assert ok.returncode == 0, ok.stderr
        answer = json.loads(ok.stdout)
        assert answer["AssumedRoleUser"]["Arn"] == (
            f"arn:aws:sts::{SANDBOX}:assumed-role/demo-web-identity/demo-session"
        )
        assert answer["SubjectFromWebIdentityToken"] == session.claims.subject
        assert answer["Provider"] == "development-only.embedded-idp.invalid"
        bad = cli(server.url, forged(token))
        assert bad.returncode != 0 and "InvalidIdentityToken" in bad.stderr
    finally:
        stop_server(process)

    # The local minter, on the same data directory, takes the same path.
    directory = open_directory(CONFIG, broker_home, None)
    minter = LocalMinter(
        embedded_state(tmp_path).ring,
        DirectoryPrincipals(directory),
        lambda claims, account, role: (
            AssignedUser("alice", "alice@example.com") if role == "demo-web-identity" else None
        ),
        audit=embedded_state(tmp_path).shared.audit,
        session_policies=embedded_state(tmp_path).shared.session_policies,
        replay_cache=embedded_state(tmp_path).shared.replay,
        web_identity=WebIdentityVerifier(local_keys=local_keys(broker_home)),
    )
    creds = minter.mint(session, MintRequest(SANDBOX, "demo-web-identity", 900))
    minted, _ = verify_session(minter.ring, creds.session_token, creds.access_key_id)
    assert minted.role_arn == ROLE
    assert [e["eventName"] for e in audit_events(tmp_path)] == ["AssumeRoleWithWebIdentity"]
