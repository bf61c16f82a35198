"""OIDC straight into AWS, through real parts: alice signs in at the ``oidc-provider`` peer (kept
in the real keyring), the real AWS CLI runs ``broker credential-process`` for a profile with
``minter = "aws-web-identity"``, and moto's STS answers AssumeRoleWithWebIdentity. When the ID
token has run out, the credential process refreshes it with the refresh token, headlessly, and
stores the new one back."""

from __future__ import annotations

import dataclasses
import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest

from broker.signin import LoginInput, run_login
from broker.store.credential_store import CredentialStore
from providers.oidc.provider import OIDCProvider
from tests.conftest import RunBroker
from tests.integration.federation_support import caller_identity
from tests.integration.oidc.conftest import Peer, Person
from tests.unit.oidc.fakes import make_context

pytestmark = [pytest.mark.keyring, pytest.mark.integration]

ROLE_ARN = "arn:aws:iam::111122223333:role/WebDeployer"


def _config(directory: Path, issuer: str, sts_url: str) -> Path:
    directory.mkdir(parents=True)
    (directory / "broker.toml").write_text(
        '[broker]\ndefault_provider = "peer"\n\n'
        f'[providers.peer]\ntype = "oidc"\nissuer = "{issuer}"\nclient_id = "broker-rs256"\n'
        "aws_federation = true\n\n"
        f'[profiles.fed]\nminter = "aws-web-identity"\nrole_arn = "{ROLE_ARN}"\n'
        f'endpoint_url = "{sts_url}"\nduration = 900\n'
    )
    return directory


class _Federation(BaseHTTPRequestHandler):
    sessions: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        self.sessions.append(json.loads(query["Session"][0]))
        body = json.dumps({"SigninToken": "signin-token"}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


def _console(run_broker: RunBroker, config: Path) -> dict[str, str]:
    """``broker console fed --open`` without a browser: the session the endpoint was sent."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Federation)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    toml = config / "broker.toml"
    before = toml.read_text()
    url = f"http://127.0.0.1:{server.server_address[1]}/federation"
    toml.write_text(before + f'\n[minters.aws]\nfederation_url = "{url}"\n')
    try:
        _Federation.sessions.clear()
        opened = run_broker("console", "fed", "--open", env={"BROWSER": ""})
    finally:
        toml.write_text(before)
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert opened.returncode == 0, opened.stderr
    assert "SigninToken=signin-token" in opened.stdout
    (session,) = _Federation.sessions
    return session


def _sign_in(store: CredentialStore, peer: Peer, tmp_path: Path, *, aws_federation: bool) -> None:
    """alice signs in at the peer (a real browser walk) and the session goes to the keyring."""
    table = {"type": "oidc", "issuer": peer.issuer, "client_id": "broker-rs256"}
    if aws_federation:
        table["aws_federation"] = True  # type: ignore[assignment]
    provider = OIDCProvider.from_config("peer", table, make_context(tmp_path / "signin"))
    try:
        run_login(LoginInput(provider="peer"), store=store, build=lambda _n: provider, ui=Person())
    finally:
        provider.close()


def _mints(run_broker: RunBroker) -> list[dict[str, object]]:
    queried = run_broker("audit", "query", "--event", "AssumeRoleWithWebIdentity")
    assert queried.returncode == 0, queried.stderr
    return [json.loads(line) for line in queried.stdout.splitlines() if line.strip()]


def test_aws_cli_gets_the_role_and_an_expired_token_is_refreshed_headlessly(
    secret_service: None,
    broker_home: Path,
    tmp_path: Path,
    oidc_peer: Peer,
    moto_federation: str,
    run_broker: RunBroker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = _config(tmp_path / "config", oidc_peer.issuer, moto_federation)
    monkeypatch.setenv("BROKER_CONFIG", str(config))
    store = CredentialStore(broker_home)
    _sign_in(store, oidc_peer, tmp_path, aws_federation=True)

    who = caller_identity(tmp_path, "fed", moto_federation)
    assert who.returncode == 0, who.stderr
    assert json.loads(who.stdout)["Arn"] == (
        "arn:aws:sts::111122223333:assumed-role/WebDeployer/alice@example.com"
    )
    (event,) = _mints(run_broker)
    assert event["requestParameters"]["RoleArn"] == ROLE_ARN  # type: ignore[index]
    signed_in = store.session("peer")
    assert signed_in is not None and signed_in.id_token is not None
    assert signed_in.id_token not in json.dumps(event)

    # The session is a real AWS one: the console sign-in takes it (the federation endpoint is
    # a loopback stand-in that hands out a token for the session it was given).
    console = _console(run_broker, config)
    cached = store.credentials("fed")
    assert cached is not None and console["sessionId"] == cached.access_key_id

    # The ID token has run out and the cached credentials are gone: the next credential
    # process (no terminal) refreshes the sign-in, keeps the new token, and mints with it.
    store.save_session(
        "peer",
        dataclasses.replace(signed_in, expires_at=datetime.now(UTC) - timedelta(minutes=1)),
    )
    store.forget_profile("fed")
    again = run_broker("credential-process", "--profile", "fed")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["AccessKeyId"].startswith("ASIA")
    renewed = store.session("peer")
    assert renewed is not None and renewed.id_token not in (None, signed_in.id_token)
    assert renewed.expires_at > datetime.now(UTC)
    assert len(_mints(run_broker)) == 2


def test_a_provider_without_the_flag_is_refused_in_one_line(
    secret_service: None,
    broker_home: Path,
    tmp_path: Path,
    oidc_peer: Peer,
    moto_federation: str,
    run_broker: RunBroker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = _config(tmp_path / "config", oidc_peer.issuer, moto_federation)
    toml = config / "broker.toml"
    toml.write_text(toml.read_text().replace("aws_federation = true\n", ""))
    monkeypatch.setenv("BROKER_CONFIG", str(config))
    _sign_in(CredentialStore(broker_home), oidc_peer, tmp_path, aws_federation=False)
    refused = run_broker("credential-process", "--profile", "fed")
    assert refused.returncode != 0 and refused.stdout == ""
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "aws_federation = true" in lines[0], refused.stderr
