"""SAML straight into AWS, through real parts: alice signs in at the pysaml2 IdP peer, whose
AWS application (as real IdPs' do) issues an IdP-initiated response addressed to AWS's sign-in
endpoint with AWS as audience and carrying AWS's Role, RoleSessionName and SessionDuration
attributes. The person hands that response to ``broker login NAME --saml-response -``; it is
kept in the real keyring, and moto's STS answers AssumeRoleWithSAML for the ``aws-saml``
minter, from the minter itself and from the real AWS CLI through ``credential-process``.

moto checks neither the wire format's addressing nor signatures: responses addressed elsewhere,
for another audience, tampered, expired, replayed or from another IdP must be refused by the
broker's own checks at sign-in, so no such response ever reaches AWS.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from broker.errors import AuthenticationError, StsError, UsageError
from broker.minters.aws_federation import FederatedTarget
from broker.minters.aws_saml import AwsSamlMinter, role_pairs
from broker.minters.base import MintRequest
from broker.minters.testing import MinterConformance
from broker.signin import LoginInput, run_login
from broker.store.credential_store import CredentialStore
from providers.base import SignInOptions, SignInResult
from providers.testing import SilentUI
from tests.conftest import REPO, RunBroker
from tests.integration.federation_support import caller_identity
from tests.integration.saml_peer import IDP_ENTITY, SP_ENTITY, Browser, RunningIdP, start_idp
from tests.minter_support import MemoryAudit
from tests.saml_forge import (
    AWS_ROLE,
    BEARER,
    KeyPair,
    Spec,
    build_assertion,
    build_response,
    encode,
    make_keypair,
    sign,
)
from tests.saml_forge import saml_provider as forge_provider

pytestmark = pytest.mark.integration

ACCOUNT = "111122223333"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/Dev"
PRINCIPAL_ARN = f"arn:aws:iam::{ACCOUNT}:saml-provider/Example"
AWS_SIGNIN = "https://signin.aws.amazon.com/saml"
AWS_AUDIENCE = "urn:amazon:webservices"


@pytest.fixture(scope="module")
def idp_keys() -> KeyPair:
    return make_keypair("idp.example.test")


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory, idp_keys: KeyPair) -> Iterator[RunningIdP]:
    # The IdP knows one SP: AWS (its entity id and sign-in endpoint), as its AWS application does.
    workdir = tmp_path_factory.mktemp("idp")
    with start_idp(workdir, idp_keys, sp_entity_id=AWS_AUDIENCE, sp_acs=AWS_SIGNIN) as running:
        yield running


def captured(idp: RunningIdP, username: str = "alice") -> str:
    """The person signs in at the IdP's AWS application and copies the SAMLResponse out of the
    auto-submitting form the browser would post to AWS."""
    action, form = Browser(idp, username).unsolicited(AWS_SIGNIN)
    assert action == AWS_SIGNIN
    return form["SAMLResponse"]


def _provider(idp: RunningIdP, directory: Path, **extra: object) -> Any:
    return forge_provider(
        directory,
        idp=IDP_ENTITY,
        sp=None,
        cert=str(idp.cert_path),
        sso_url=idp.sso_url,
        aws_federation=True,
        **extra,
    )


@pytest.fixture(scope="module")
def signed_in(idp: RunningIdP, tmp_path_factory: pytest.TempPathFactory) -> SignInResult:
    provider = _provider(idp, tmp_path_factory.mktemp("sp"))
    return provider.accept_captured(captured(idp))  # type: ignore[no-any-return]


def _refuse_calls(_region: str, _endpoint: str | None) -> Any:
    raise AssertionError("AWS was asked although the broker's own checks should have refused")


def test_the_sign_in_ends_with_the_assertion_and_keeps_its_role_pairs(
    signed_in: SignInResult,
) -> None:
    now = datetime.now(UTC)
    # The peer's assertions live 5 minutes; AWS refuses them after that, so the sign-in ends.
    assert now < signed_in.expires_at <= now + timedelta(minutes=6)
    assert signed_in.saml_response
    pairs = role_pairs(signed_in.claims)
    assert [(p.role_arn, p.principal_arn) for p in pairs] == [(ROLE_ARN, PRINCIPAL_ARN)]


class TestConformance(MinterConformance):
    @pytest.fixture
    def audit(self) -> MemoryAudit:
        return MemoryAudit()

    @pytest.fixture
    def minter(self, moto_federation: str, audit: MemoryAudit) -> AwsSamlMinter:
        return AwsSamlMinter(
            audit, frozenset({"corp"}), target=FederatedTarget(endpoint_url=moto_federation)
        )

    @pytest.fixture
    def audit_events(self, audit: MemoryAudit) -> Any:
        return lambda: audit.events

    @pytest.fixture
    def broken_minter(self, moto_federation: str) -> AwsSamlMinter:
        return AwsSamlMinter(
            MemoryAudit(broken=True),
            frozenset({"corp"}),
            target=FederatedTarget(endpoint_url=moto_federation),
        )

    @pytest.fixture
    def identity(self, signed_in: SignInResult) -> SignInResult:
        return signed_in

    @pytest.fixture
    def assigned(self) -> MintRequest:
        return MintRequest(ACCOUNT, "Dev", 3600)  # the assertion's SessionDuration

    @pytest.fixture
    def unassigned(self) -> MintRequest:
        return MintRequest(ACCOUNT, "Admin", 900)

    @pytest.fixture
    def role_maximum(self) -> int:
        return 3600  # SessionDuration caps it


@pytest.mark.parametrize(
    ("target", "code"),
    [
        (FederatedTarget(role_arn=f"arn:aws:iam::{ACCOUNT}:role/Admin"), "AccessDenied"),
        (
            FederatedTarget(
                role_arn=ROLE_ARN, principal_arn=f"arn:aws:iam::{ACCOUNT}:saml-provider/Other"
            ),
            "AccessDenied",
        ),
    ],
)
def test_a_role_the_assertion_does_not_list_is_refused_before_aws(
    signed_in: SignInResult, target: FederatedTarget, code: str
) -> None:
    audit = MemoryAudit()
    minter = AwsSamlMinter(audit, frozenset({"corp"}), target=target, client_factory=_refuse_calls)
    role = (target.role_arn or ROLE_ARN).rsplit("/", 1)[1]
    with pytest.raises(StsError) as refused:
        minter.mint(signed_in, MintRequest(ACCOUNT, role, 900))
    assert refused.value.code == code and "\n" not in str(refused.value)
    assert "lists: " + ROLE_ARN in str(refused.value)


def test_a_sign_in_without_a_saml_response_is_refused_before_aws(
    signed_in: SignInResult,
) -> None:
    minter = AwsSamlMinter(MemoryAudit(), frozenset({"corp"}), client_factory=_refuse_calls)
    oidc_like = dataclasses.replace(signed_in, saml_response=None, id_token="a.b.c")
    with pytest.raises(StsError) as refused:
        minter.mint(oidc_like, MintRequest(ACCOUNT, "Dev", 900))
    assert refused.value.code == "InvalidIdentityToken"
    assert "aws-web-identity" in str(refused.value)


def test_an_expired_assertion_is_refused_before_aws(signed_in: SignInResult) -> None:
    minter = AwsSamlMinter(MemoryAudit(), frozenset({"corp"}), client_factory=_refuse_calls)
    expired = dataclasses.replace(signed_in, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    with pytest.raises(StsError) as refused:
        minter.mint(expired, MintRequest(ACCOUNT, "Dev", 900))
    assert refused.value.code == "ExpiredToken"
    assert "broker login corp" in str(refused.value)


# -- attack samples: refused at sign-in, so AWS never sees them -----------------------------


def _aws_spec() -> Spec:
    return Spec(idp=IDP_ENTITY, sp=AWS_AUDIENCE, acs=AWS_SIGNIN, in_response_to=None)


def _two_confirmations(keys: KeyPair) -> bytes:
    """A signed assertion whose Subject also holds a second bearer confirmation (AWS demands
    exactly one)."""
    assertion = build_assertion(_aws_spec())
    subject = assertion.find("{urn:oasis:names:tc:SAML:2.0:assertion}Subject")
    assert subject is not None
    extra = copy.deepcopy(subject[1])
    assert extra.get("Method") == BEARER
    subject.append(extra)
    return etree.tostring(build_response(_aws_spec(), None, assertion=sign(assertion, keys)))


def _attack(attack: str, keys: KeyPair) -> str:
    spec = _aws_spec()
    admin = f"arn:aws:iam::{ACCOUNT}:role/Admin,{PRINCIPAL_ARN}"
    if attack == "to-loopback":
        spec = spec.but(acs="http://127.0.0.1:8443/saml/acs")
    elif attack == "to-other-host":
        spec = spec.but(acs="https://signin.aws.amazon.com.evil.test/saml")
    elif attack == "recipient-elsewhere":  # Destination right, the confirmation not
        spec = spec.but(recipient="https://evil.test/saml")
    elif attack == "wrong-audience":
        spec = spec.but(audiences=(SP_ENTITY,))
    elif attack == "expired":
        spec = spec.but(issued=datetime.now(UTC) - timedelta(hours=1))
    elif attack == "answers-a-request":  # AWS sends no AuthnRequests: not one AWS asked for
        spec = spec.but(in_response_to="_someone_elses_request")
    elif attack == "other-key":
        keys = make_keypair("idp.example.test")
    elif attack == "other-idp":
        spec, keys = spec.but(idp="https://other-idp.example.test/"), make_keypair("other.test")
    elif attack == "two-confirmations":
        return encode(_two_confirmations(keys))
    response = build_response(spec, keys)
    if attack == "tampered":  # grant another role after the IdP signed
        for value in response.iter("{urn:oasis:names:tc:SAML:2.0:assertion}AttributeValue"):
            if value.getparent().get("Name") == AWS_ROLE:  # type: ignore[union-attr]
                value.text = admin
    return encode(response)


ATTACKS = {  # attack -> what the one-line refusal names
    "to-loopback": f"Destination is not {AWS_SIGNIN}",
    "to-other-host": f"Destination is not {AWS_SIGNIN}",
    "recipient-elsewhere": f"Recipient is not {AWS_SIGNIN}",
    "wrong-audience": f"Audience does not name {AWS_AUDIENCE}",
    "expired": "expired",
    "answers-a-request": "InResponseTo does not match",
    "tampered": "Assertion signature",
    "other-key": "Assertion signature",
    "other-idp": "Assertion signature",
    "two-confirmations": "exactly one SubjectConfirmation",
}


def test_the_forged_baseline_is_accepted(
    idp: RunningIdP, idp_keys: KeyPair, tmp_path: Path
) -> None:
    """The attack samples differ from this accepted response by one thing each."""
    provider = _provider(idp, tmp_path)
    signed_in = provider.accept_captured(encode(build_response(_aws_spec(), idp_keys)))
    assert role_pairs(signed_in.claims)


@pytest.mark.parametrize(("attack", "reason"), ATTACKS.items())
def test_attack_samples_never_become_a_sign_in(
    idp: RunningIdP, idp_keys: KeyPair, tmp_path: Path, attack: str, reason: str
) -> None:
    provider = _provider(idp, tmp_path)
    with pytest.raises(AuthenticationError) as refused:
        provider.accept_captured(_attack(attack, idp_keys))
    assert reason in str(refused.value) and "\n" not in str(refused.value)


def test_a_replayed_response_is_refused(idp: RunningIdP, tmp_path: Path) -> None:
    provider = _provider(idp, tmp_path)
    response = captured(idp, "dana")
    provider.accept_captured(response)
    with pytest.raises(AuthenticationError, match="replay"):
        provider.accept_captured(response)


def test_the_loopback_browser_flow_is_refused_naming_the_capture(
    idp: RunningIdP, tmp_path: Path
) -> None:
    """A response the IdP posts to our loopback is useless to AWS: no AuthnRequest is sent."""
    ui = SilentUI()
    with pytest.raises(UsageError) as refused:
        _provider(idp, tmp_path).sign_in(SignInOptions(ui=ui, timeout=5))
    assert "--saml-response" in str(refused.value) and "\n" not in str(refused.value)
    assert ui.opened == []
    with pytest.raises(UsageError, match="AWS's metadata"):  # AWS is the SP, not us
        _provider(idp, tmp_path).metadata()


# -- the whole path: keyring, credential-process under the AWS CLI, headless expiry ----------


# dana's one role is in moto's default account: moto files a SAML session under the account
# the (unsigned) request came to, and answers GetCallerIdentity from the key's account.
DANA_ACCOUNT = "123456789012"
DANA_ROLE = f"arn:aws:iam::{DANA_ACCOUNT}:role/Dev"
DANA_PRINCIPAL = f"arn:aws:iam::{DANA_ACCOUNT}:saml-provider/Example"


def _write_config(directory: Path, idp: RunningIdP, sts_url: str) -> Path:
    directory.mkdir(parents=True)
    (directory / "broker.toml").write_text(
        '[broker]\ndefault_provider = "corp"\n\n'
        f'[providers.corp]\ntype = "saml"\nidp_entity_id = "{IDP_ENTITY}"\n'
        f'sso_url = "{idp.sso_url}"\nidp_certificate = "{idp.cert_path}"\n'
        "aws_federation = true\n\n"
        f'[profiles.dev]\nminter = "aws-saml"\nrole_arn = "{DANA_ROLE}"\n'
        f'principal_arn = "{DANA_PRINCIPAL}"\nendpoint_url = "{sts_url}"\n'
    )
    return directory


@pytest.fixture
def cli_store(
    secret_service: None,
    broker_home: Path,
    tmp_path: Path,
    idp: RunningIdP,
    moto_federation: str,
    monkeypatch: pytest.MonkeyPatch,
) -> CredentialStore:
    """The broker CLI configured with provider ``corp`` (aws_federation) and profile ``dev``
    (dana's role through moto), over the real keyring."""
    monkeypatch.setenv(
        "BROKER_CONFIG", str(_write_config(tmp_path / "config", idp, moto_federation))
    )
    return CredentialStore(broker_home)


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
        "broker: dev: stopped refreshing: the corp session has ended: run `broker login corp`"
    ]
    store.forget_profile("dev")
    refused = run_broker("credential-process", "--profile", "dev")
    assert refused.returncode != 0 and refused.stdout == ""
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "broker login corp" in lines[0], refused.stderr


def _portal_config(directory: Path, idp: RunningIdP, sts_url: str) -> Path:
    """No [profiles]: the portal's roles, minted through the minter's own STS."""
    _write_config(directory, idp, sts_url)
    toml = directory / "broker.toml"
    toml.write_text(
        toml.read_text().split("[profiles.dev]")[0]
        + f'[minters.aws-saml]\nendpoint_url = "{sts_url}"\n'
    )
    return directory


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
    config = _portal_config(tmp_path / "config", idp, moto_federation)
    monkeypatch.setenv("BROKER_CONFIG", str(config))
    provider = _provider(idp, tmp_path / "sp")
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

    config = _portal_config(tmp_path / "config", idp, moto_federation)
    monkeypatch.setenv("BROKER_CONFIG", str(config))
    identity = _provider(idp, tmp_path / "sp").accept_captured(captured(idp, "dana"))
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

    config = _portal_config(tmp_path / "config", idp, moto_federation)
    identity = _provider(idp, tmp_path / "sp").accept_captured(captured(idp, "dana"))
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
    loopback.write_text(_attack("to-loopback", idp_keys))
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
