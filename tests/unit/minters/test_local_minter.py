"""The local minter: assignment first, then the same trust checks as the HTTP API, audited."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from broker.audit.sink import AuditSink
from broker.errors import AuditError, StsError
from broker.minters.base import MintRequest
from broker.minters.local import AssignedUser, LocalMinter
from broker.sts.context import utc_now
from broker.sts.principals import SamlProviderEntry, WebIdentityProvider
from broker.sts.session_token import verify_session
from broker.sts.web_identity import WebIdentityVerifier
from providers.base import Claims, SignInResult
from tests.saml_forge import Spec, build_response, encode, make_keypair
from tests.state_support import break_audit_chain, embedded_state
from tests.unit.sts.principal_data import HOME, Directory, trust

ISSUER = "https://idp.example.com"
OIDC_ARN = f"arn:aws:iam::{HOME}:oidc-provider/idp.example.com"
SAML_ARN = f"arn:aws:iam::{HOME}:saml-provider/Example"
KEY = RSAKey.generate_key(2048, parameters={"kid": "m1"})
SAML_KEYS = make_keypair()
ROLE_ATTR = "https://aws.amazon.com/SAML/Attributes/Role"


@pytest.fixture
def minter(tmp_path) -> LocalMinter:
    return local_minter(tmp_path, embedded_state(tmp_path).shared.audit)


def local_minter(tmp_path, audit: AuditSink, clock=utc_now) -> LocalMinter:
    """Alice holds AWSReservedSSO_Dev (at most 8 h), not AWSReservedSSO_Admin; both roles
    trust the test OIDC and SAML providers."""
    directory = Directory()
    directory.web_providers[(HOME, ISSUER)] = WebIdentityProvider(
        OIDC_ARN, ISSUER, ("broker",), f"{ISSUER}/jwks"
    )
    directory.saml_providers[SAML_ARN] = SamlProviderEntry(
        SAML_ARN, "https://idp.example.com/saml", (SAML_KEYS.cert,)
    )
    both = trust(
        {"Federated": [OIDC_ARN, SAML_ARN]},
        actions=("sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML"),
    )
    directory.add_role(HOME, "AWSReservedSSO_Dev", both, max_session=28_800)
    directory.add_role(HOME, "AWSReservedSSO_Admin", both, max_session=3600)
    jwks = {"keys": [{**KEY.as_dict(private=False), "kid": "m1", "use": "sig"}]}
    verifier = WebIdentityVerifier(
        httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, json=jwks)))
    )
    return LocalMinter(
        embedded_state(tmp_path).ring,
        directory,
        lambda claims, account, role: (
            AssignedUser("alice", "alice@example.com") if role == "AWSReservedSSO_Dev" else None
        ),
        audit=audit,
        session_policies=embedded_state(tmp_path).shared.session_policies,
        replay_cache=embedded_state(tmp_path).shared.replay,
        web_identity=verifier,
        clock=clock,
    )


def oidc_sign_in() -> SignInResult:
    now = int(time.time())
    token = jwt.encode(
        {"alg": "RS256", "kid": "m1"},
        {"iss": ISSUER, "aud": "broker", "sub": "u-1", "iat": now, "exp": now + 600},
        KEY,
    )
    claims = Claims(provider="corp", issuer=ISSUER, subject="u-1", email="alice@example.com")
    return SignInResult(
        claims=claims, expires_at=datetime.now(UTC) + timedelta(hours=8), id_token=token
    )


def test_oidc_sign_in_mints_verifiable_credentials_and_audits(minter) -> None:
    creds = minter.mint(
        oidc_sign_in(), MintRequest(HOME, "AWSReservedSSO_Dev", 7200, reason="deploy")
    )
    assert creds.access_key_id.startswith("BRKS")
    assert 7190 <= creds.seconds_left() <= 7200
    claims, secret = verify_session(minter.ring, creds.session_token, creds.access_key_id)
    assert secret == creds.secret_access_key
    assert claims.arn == f"arn:aws:sts::{HOME}:assumed-role/AWSReservedSSO_Dev/alice@example.com"
    event = list(minter.audit.records())[-1]
    assert event["eventName"] == "AssumeRoleWithWebIdentity" and "errorCode" not in event
    assert event["requestParameters"]["reason"] == "deploy"
    logged = json.dumps(list(minter.audit.records()), separators=(",", ":"))
    assert creds.session_token not in logged


def test_unassigned_role_is_refused_and_audited(minter) -> None:
    with pytest.raises(StsError) as err:
        minter.mint(oidc_sign_in(), MintRequest(HOME, "AWSReservedSSO_Admin"))
    assert err.value.code == "AccessDenied"
    assert list(minter.audit.records())[-1]["errorCode"] == "AccessDenied"


def test_duration_beyond_role_maximum_is_refused(minter) -> None:
    with pytest.raises(StsError) as err:
        minter.mint(oidc_sign_in(), MintRequest(HOME, "AWSReservedSSO_Dev", 28_801))
    assert err.value.code == "ValidationError"


def test_saml_sign_in(minter) -> None:
    role = f"arn:aws:iam::{HOME}:role/AWSReservedSSO_Dev"
    spec = Spec(
        idp="https://idp.example.com/saml",
        sp="urn:amazon:webservices",
        acs="https://signin.aws.amazon.com/saml",
        in_response_to=None,
        attributes=(
            (ROLE_ATTR, (f"{role},{SAML_ARN}",)),
            ("https://aws.amazon.com/SAML/Attributes/RoleSessionName", ("alice",)),
        ),
    )
    response = encode(build_response(spec, SAML_KEYS))
    claims = Claims(
        provider="corp-saml",
        issuer=spec.idp,
        subject="alice@example.com",
        attributes={ROLE_ATTR: (f"{role},{SAML_ARN}",)},
    )
    sign_in = SignInResult(
        claims=claims, expires_at=datetime.now(UTC) + timedelta(hours=1), saml_response=response
    )
    creds = minter.mint(sign_in, MintRequest(HOME, "AWSReservedSSO_Dev"))
    assert creds.seconds_left() > 3000


def test_nothing_is_issued_when_the_audit_log_cannot_be_written(minter, tmp_path) -> None:
    break_audit_chain(tmp_path)  # the chain cannot be appended to
    with pytest.raises(AuditError):
        minter.mint(oidc_sign_in(), MintRequest(HOME, "AWSReservedSSO_Dev"))


def test_identity_center_path_with_the_shipped_directory(tmp_path, broker_home) -> None:
    """alice (demo IdP, group engineering) gets PowerUserAccess in payments-staging from the
    broker's own federation; an account she is not assigned is refused."""
    from broker.config import config_dir
    from broker.minters.local import directory_assignments
    from broker.sts.directory_source import DirectoryPrincipals
    from broker.sts.directory_state import open_directory

    directory = open_directory(config_dir(), broker_home, None)
    claims = Claims(
        provider="demo",
        issuer="http://127.0.0.1:9/demo",
        subject="alice-sub",
        email="alice@example.com",
        groups=("engineering",),
        session_not_on_or_after=datetime.now(UTC) + timedelta(hours=2),
    )
    held = [a for a in directory.assignments_for(claims) if a.permission_set == "PowerUserAccess"]
    target = next(a for a in held if a.account_name == "payments-staging")
    minter = LocalMinter(
        embedded_state(tmp_path).ring,
        DirectoryPrincipals(directory),
        directory_assignments(directory),
        audit=embedded_state(tmp_path).shared.audit,
        session_policies=embedded_state(tmp_path).shared.session_policies,
        replay_cache=embedded_state(tmp_path).shared.replay,
    )
    sign_in = SignInResult(claims=claims, expires_at=datetime.now(UTC) + timedelta(hours=1))
    creds = minter.mint(sign_in, MintRequest(target.account_id, target.role_name))
    session, _ = verify_session(minter.ring, creds.session_token, creds.access_key_id)
    assert session.role_arn == target.role_arn
    assert session.source_identity == "alice@example.com"
    assert session.tags.get("team") == "platform"
    with pytest.raises(StsError) as err:  # beyond the IdP session (2 h)
        minter.mint(sign_in, MintRequest(target.account_id, target.role_name, 3 * 3600))
    assert err.value.code == "ValidationError"
    management = next(a for a in directory.accounts() if a.name == "management")
    with pytest.raises(StsError) as err:
        minter.mint(sign_in, MintRequest(management.id, target.role_name))
    assert err.value.code == "AccessDenied"
    assert str(err.value).startswith("alice@example.com is not assigned")  # a person, not a uuid
    assert [e["eventName"] for e in minter.audit.records()] == ["AssumeRoleWithSAML"] * 3


def test_credentials_are_the_sessions_own_values_not_a_reparsed_answer(tmp_path) -> None:
    """The minter takes the operation's typed result: the expiry is the session's instant as
    the injected clock set it (no text parsed back), and what the audit records agrees."""
    issued = datetime.now(UTC).replace(microsecond=654_321) - timedelta(minutes=5)
    minter = local_minter(tmp_path, embedded_state(tmp_path).shared.audit, clock=lambda: issued)
    creds = minter.mint(oidc_sign_in(), MintRequest(HOME, "AWSReservedSSO_Dev", 900))
    start = issued.replace(microsecond=0)
    assert creds.expiration == start + timedelta(seconds=900)
    assert creds.expiration.tzinfo is not None and creds.expiration.utcoffset() == timedelta(0)
    session, secret = verify_session(minter.ring, creds.session_token, creds.access_key_id)
    assert (session.issued_at, session.expires_at, secret) == (
        start,
        creds.expiration,
        creds.secret_access_key,
    )
    event = list(minter.audit.records())[-1]
    assert event["requestParameters"]["durationSeconds"] == "900"
    assert event["responseElements"]["credentials"] == {
        "accessKeyId": creds.access_key_id,
        "expiration": creds.expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    assert event["responseElements"]["sessionId"] == session.session_id


def test_each_refusal_is_audited_under_the_action_that_refused_it(minter) -> None:
    """Not assigned: refused before any STS path (logged as the broker's own SAML
    federation, as always); past the role's maximum: refused by AssumeRoleWithWebIdentity."""
    with pytest.raises(StsError):
        minter.mint(oidc_sign_in(), MintRequest(HOME, "AWSReservedSSO_Admin"))
    with pytest.raises(StsError):
        minter.mint(oidc_sign_in(), MintRequest(HOME, "AWSReservedSSO_Dev", 28_801))
    minter.mint(oidc_sign_in(), MintRequest(HOME, "AWSReservedSSO_Dev", 900))
    events = [(e["eventName"], e.get("errorCode")) for e in minter.audit.records()]
    assert events == [
        ("AssumeRoleWithSAML", "AccessDenied"),
        ("AssumeRoleWithWebIdentity", "ValidationError"),
        ("AssumeRoleWithWebIdentity", None),
    ]
