"""The STS authorization seam (broker/sts/authorization.py): the documented tables, each row's
actions refused one at a time, the root row, and a property: a minted session never allows
what its principal does not (the engine decides both, through POST /authorize)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broker.errors import StsError
from broker.policy import parse_policy
from broker.server.query_api import StsService
from broker.sts.assume_role import assume_role
from broker.sts.authorization import (
    RULES,
    caller_kind,
    caller_matrix_markdown,
    require_caller,
    rules_markdown,
)
from broker.sts.callers import Caller
from broker.sts.context import StsContext
from broker.sts.operations import get_caller_identity, get_federation_token, get_session_token
from broker.sts.principals import PrincipalPolicies
from broker.sts.requests import (
    AssumeRoleRequest,
    GetCallerIdentityRequest,
    GetFederationTokenRequest,
    GetSessionTokenRequest,
)
from tests.state_support import embedded_state
from tests.unit.server.test_authorize import signed_json
from tests.unit.server.test_query_api import call, credentials_of
from tests.unit.sts.principal_data import HOME, Directory, allow, trust

DOCS = Path(__file__).resolve().parents[3] / "docs" / "architecture.md"
USER = f"arn:aws:iam::{HOME}:user/svc-app"


def doc(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def deny(action: str) -> object:
    return parse_policy(doc({"Effect": "Deny", "Action": action, "Resource": "*"}))


def test_architecture_shows_the_tables_the_code_decides_by() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert caller_matrix_markdown() in text
    assert rules_markdown() in text


# -- each row's actions, refused one at a time ----------------------------------------------


@pytest.fixture
def service(tmp_path) -> StsService:
    directory = Directory()
    directory.add_role(
        HOME,
        "Target",
        trust({"AWS": USER}, actions=("sts:AssumeRole",)),
        policies=[allow("s3:GetObject")],
    )
    return StsService.over(embedded_state(tmp_path), data=tmp_path, principals=directory)


def key_of(service: StsService, policies: PrincipalPolicies) -> tuple[str, str]:
    service.principals.users[(HOME, "svc-app")] = policies  # type: ignore[union-attr]
    record, secret = service.keys.create("svc-app", HOME)
    return record.access_key_id, secret


def refusal(service: StsService, key: tuple[str, str], params: dict) -> str:
    answer = call(service, *key, params)
    assert answer.status == 403, answer.body
    return answer.body.split("<Message>")[1].split("</Message>")[0]


TAGS = {"Tags.member.1.Key": "team", "Tags.member.1.Value": "payments"}
ROLE = f"arn:aws:iam::{HOME}:role/Target"
FEDERATE = {"Action": "GetFederationToken", "Name": "app"}
ASSUME = {"Action": "AssumeRole", "RoleArn": ROLE, "RoleSessionName": "app"}


def _scp_denying(action: str) -> PrincipalPolicies:
    scp = parse_policy(
        doc(
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": action, "Resource": "*"},
        ),
        kind="scp",
    )
    return PrincipalPolicies(identity=(allow("*"),), scp_hierarchy=((scp,),))


# operation -> (the action that must be allowed, the caller's policies, the request)
REFUSED_ONE_AT_A_TIME = {
    "GetFederationToken": [
        ("sts:GetFederationToken", PrincipalPolicies(), FEDERATE),
        (
            "sts:GetFederationToken",
            PrincipalPolicies(identity=(allow("*"), deny("sts:GetFederationToken"))),
            FEDERATE,
        ),
        ("sts:GetFederationToken", _scp_denying("sts:GetFederationToken"), FEDERATE),  # an SCP
        (
            "sts:TagSession",
            PrincipalPolicies(identity=(allow("sts:GetFederationToken"),)),
            {**FEDERATE, **TAGS},
        ),
    ],
    "AssumeRole": [
        ("sts:AssumeRole", PrincipalPolicies(identity=(deny("sts:AssumeRole"),)), ASSUME),
        ("sts:TagSession", PrincipalPolicies(), {**ASSUME, **TAGS}),
        ("sts:SetSourceIdentity", PrincipalPolicies(), {**ASSUME, "SourceIdentity": "alice"}),
    ],
}


@pytest.mark.parametrize(
    ("operation", "case"),
    [(op, i) for op, cases in REFUSED_ONE_AT_A_TIME.items() for i in range(len(cases))],
)
def test_each_action_of_a_row_is_decided_by_the_engine(service, operation, case) -> None:
    action, policies, params = REFUSED_ONE_AT_A_TIME[operation][case]
    assert any(action in listed for listed in _rule_actions(operation))
    message = refusal(service, key_of(service, policies), params)
    assert f"perform: {action}" in message


def _rule_actions(operation: str) -> tuple[str, ...]:
    return next(r.actions for r in RULES if r.operation == operation)


def test_every_signed_row_with_actions_is_walked() -> None:
    """AssumeRoleWithWebIdentity/SAML (the trust policy alone) are walked in
    test_web_identity.py (test_trust_conditions_decide) and test_saml_assertion.py
    (test_asserted_tags_and_source_identity_need_the_trust_policy)."""
    signed = {r.operation for r in RULES if r.actions and r.callers is not None}
    assert signed == set(REFUSED_ONE_AT_A_TIME)


def test_the_same_requests_pass_once_allowed(service) -> None:
    key = key_of(
        service,
        PrincipalPolicies(identity=(allow("sts:GetFederationToken"), allow("sts:TagSession"))),
    )
    assert call(service, *key, {**FEDERATE, **TAGS}).status == 200
    actions = ("sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity")
    service.principals.add_role(HOME, "Target", trust({"AWS": USER}, actions=actions))  # type: ignore[union-attr]
    answer = call(service, *key, {**ASSUME, **TAGS, "SourceIdentity": "alice"})
    assert answer.status == 200, answer.body


# -- the root row ----------------------------------------------------------------------------


def root_caller() -> Caller:
    return Caller(
        arn=f"arn:aws:iam::{HOME}:root",
        account=HOME,
        user_id=HOME,
        user="root",
        access_key_id="BRKUROOTROOTROOTROOT",
    )


def test_root_row(tmp_path) -> None:
    ring = embedded_state(tmp_path).ring
    root = root_caller()
    assert caller_kind(root) == "root"
    directory = Directory()
    store = embedded_state(tmp_path).shared.session_policies
    deps = StsContext(ring, directory, store)
    assert get_caller_identity(deps, root, GetCallerIdentityRequest()).result.arn == root.arn
    minted = get_session_token(deps, root, GetSessionTokenRequest())
    assert minted.session is not None
    lifetime = minted.session.expires_at - datetime.now(UTC)
    assert timedelta(minutes=59) < lifetime <= timedelta(hours=1)
    with pytest.raises(StsError, match="root user"):
        get_session_token(deps, root, GetSessionTokenRequest(duration_seconds=7200))
    policy = json.dumps(doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}))
    federate = GetFederationTokenRequest(name="app", policy=policy)
    federated = get_federation_token(deps, root, federate)
    assert federated.session is not None and federated.session.kind == "federated-user"
    # the root user is bound by its account's SCPs, not by identity policies
    directory.users[(HOME, "root")] = _scp_denying("sts:GetFederationToken")
    with pytest.raises(StsError) as refused:
        get_federation_token(deps, root, federate)
    assert refused.value.code == "AccessDenied"
    with pytest.raises(StsError) as refused:
        assume_role(deps, root, AssumeRoleRequest(role_arn=ROLE, role_session_name="x"))
    assert refused.value.code == "AccessDenied" and "root user" in str(refused.value)


def test_require_caller_refuses_by_kind_before_anything_else() -> None:
    root = root_caller()
    for rule in RULES:
        if rule.callers is None:
            continue
        if "root" in rule.callers:
            assert require_caller(rule.operation, root) == "root"
        else:
            with pytest.raises(StsError):
                require_caller(rule.operation, root)


def test_without_a_directory_get_federation_token_is_refused(tmp_path) -> None:
    service = StsService.over(embedded_state(tmp_path), data=tmp_path)
    record, secret = service.keys.create("svc-app", HOME)
    answer = call(service, record.access_key_id, secret, FEDERATE)
    assert answer.status == 403 and "directory" in answer.body


# -- property: no minted session exceeds its principal ---------------------------------------

ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "sqs:SendMessage", "ec2:RunInstances")
RESOURCES = ("*", "arn:aws:s3:::example-data/*", "arn:aws:s3:::example-data/report.csv")
STS_ACTIONS = ("sts:GetFederationToken", "sts:AssumeRole")

# Denials never name sts:* (or "*"), so minting itself is always allowed and the property is
# about what the minted session may do.
statement = st.fixed_dictionaries(
    {
        "Effect": st.just("Allow"),
        "Action": st.lists(st.sampled_from((*ACTIONS, "s3:*", "*")), min_size=1, max_size=3),
        "Resource": st.sampled_from(RESOURCES),
    }
) | st.fixed_dictionaries(
    {
        "Effect": st.just("Deny"),
        "Action": st.lists(st.sampled_from((*ACTIONS, "s3:*")), min_size=1, max_size=3),
        "Resource": st.sampled_from(RESOURCES),
    }
)
documents = st.lists(statement, min_size=1, max_size=4).map(lambda s: doc(*s))


@pytest.fixture(scope="module")
def property_service(tmp_path_factory):
    home = tmp_path_factory.mktemp("property")
    directory = Directory()
    service = StsService.over(embedded_state(home), data=home, principals=directory)
    record, secret = service.keys.create("svc-prop", HOME)
    return service, directory, {"AccessKeyId": record.access_key_id, "SecretAccessKey": secret}


def _allowed(service: StsService, creds: dict, action: str, resource: str) -> bool:
    status, answer = service.authorize(
        signed_json(creds, {"action": action, "resource": resource}), source_ip=None
    )
    assert status == 200, answer
    return bool(answer["allowed"])


def _mint(service: StsService, key: dict, params: dict) -> dict | None:
    answer = call(service, key["AccessKeyId"], key["SecretAccessKey"], params)
    return credentials_of(answer.body) if answer.status == 200 else None


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    user=documents,
    role=documents,
    inline=st.none() | documents,
    managed=st.lists(st.sampled_from(("AWSDenyAll", "customer")), max_size=2, unique=True),
    customer=documents,
    operation=st.sampled_from(("GetFederationToken", "GetSessionToken", "AssumeRole")),
)
def test_no_session_exceeds_its_principal(
    property_service, user, role, inline, managed, customer, operation
) -> None:
    service, directory, key = property_service
    grant = doc({"Effect": "Allow", "Action": list(STS_ACTIONS), "Resource": "*"})
    directory.users[(HOME, "svc-prop")] = PrincipalPolicies(
        identity=(parse_policy(user), parse_policy(grant))
    )
    role_arn = directory.add_role(
        HOME,
        "Prop",
        trust({"AWS": f"arn:aws:iam::{HOME}:user/svc-prop"}),
        policies=[parse_policy(role)],
    )
    directory.managed[(HOME, "customer")] = customer
    arns = {
        "AWSDenyAll": "arn:aws:iam::aws:policy/AWSDenyAll",
        "customer": f"arn:aws:iam::{HOME}:policy/customer",
    }
    extra: dict[str, str] = {}
    if inline is not None:
        extra["Policy"] = json.dumps(inline)
    for index, name in enumerate(managed, 1):
        extra[f"PolicyArns.member.{index}.arn"] = arns[name]
    if operation == "GetFederationToken":
        principal = key  # the user's own permissions
        minted = _mint(service, key, {"Action": operation, "Name": "prop", **extra})
    elif operation == "GetSessionToken":
        principal = key
        minted = _mint(service, key, {"Action": operation})
    else:
        assume = {"Action": "AssumeRole", "RoleArn": role_arn, "RoleSessionName": "prop"}
        principal = _mint(service, key, assume)  # the role's own permissions
        minted = _mint(service, key, {**assume, **extra})
    assert principal is not None and minted is not None
    for action in ACTIONS:
        for resource in RESOURCES:
            if _allowed(service, minted, action, resource):
                assert _allowed(service, principal, action, resource), (operation, action)
    if operation != "GetSessionToken" and "AWSDenyAll" in managed:
        assert not any(_allowed(service, minted, a, r) for a in ACTIONS for r in RESOURCES)
    if operation == "GetFederationToken" and inline is None and not managed:
        assert not any(_allowed(service, minted, a, r) for a in ACTIONS for r in RESOURCES)


def test_federated_tags_and_source_identity_need_the_trust_policy() -> None:
    """The broker's own federation (broker/minters/local.py) and AssumeRoleWithSAML ask the
    role's trust policy for sts:TagSession and sts:SetSourceIdentity; permission-set roles'
    trust policies allow both, a trust allowing only the assume action does not."""
    from broker.directory.naming import sso_trust_policy
    from broker.sts.directory_source import broker_saml_provider_arn
    from broker.sts.role_session import authorize_federated_extras

    provider = broker_saml_provider_arn(HOME)
    context = {"saml:aud": "https://signin.aws.amazon.com/saml"}
    directory = Directory()
    directory.add_role(HOME, "Sso", parse_policy(dict(sso_trust_policy(HOME)), kind="trust"))
    sso = directory.role(HOME, "Sso")
    authorize_federated_extras(sso, provider, context, {"team": "blue"}, "alice")
    directory.add_role(
        HOME, "Narrow", trust({"Federated": provider}, actions=("sts:AssumeRoleWithSAML",))
    )
    narrow = directory.role(HOME, "Narrow")
    authorize_federated_extras(narrow, provider, context, {}, None)
    with pytest.raises(StsError, match="sts:TagSession"):
        authorize_federated_extras(narrow, provider, context, {"team": "blue"}, None)
    with pytest.raises(StsError, match="sts:SetSourceIdentity"):
        authorize_federated_extras(narrow, provider, context, {}, "alice")


@pytest.mark.parametrize(
    "params",
    [
        # an inline policy cannot pass for a stored bundle of session policies
        {"Policy": json.dumps({**doc(), "SessionPolicies": [doc()]})},
        # members numbered with a gap: the third would otherwise be skipped
        {
            "PolicyArns.member.1.arn": "arn:aws:iam::aws:policy/AWSDenyAll",
            "PolicyArns.member.3.arn": "arn:aws:iam::aws:policy/AWSDenyAll",
        },
    ],
)
def test_session_policy_parameters_are_never_half_read(service, params) -> None:
    key = key_of(service, PrincipalPolicies(identity=(allow("sts:GetFederationToken"),)))
    answer = call(service, *key, {**FEDERATE, **params})
    assert answer.status == 400, answer.body
    assert "<Code>MalformedPolicyDocument</Code>" in answer.body or (
        "<Code>ValidationError</Code>" in answer.body
    )
