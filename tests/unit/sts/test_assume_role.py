"""AssumeRole decided by the policy engine: trust, both sides cross-account, chaining, tags."""

from __future__ import annotations

import json

import pytest

from broker.errors import StsError
from broker.sts.assume_role import assume_role
from broker.sts.callers import Caller
from broker.sts.context import StsContext
from broker.sts.principals import PrincipalPolicies
from broker.sts.query_form import parse_request
from broker.sts.session_token import verify_session
from broker.sts.signing_keys import KeyRing
from tests.state_support import embedded_state
from tests.unit.sts.principal_data import ALICE, HOME, OTHER, Directory, allow, trust


@pytest.fixture
def ring(tmp_path) -> KeyRing:
    return embedded_state(tmp_path).ring


@pytest.fixture
def store(tmp_path):
    return embedded_state(tmp_path).shared.session_policies


def alice() -> Caller:
    return Caller(
        arn=ALICE, account=HOME, user_id="BRKIALICE", user="alice", access_key_id="BRKU" + "A" * 16
    )


def assume(ring, directory, store, caller, **params):
    params = {"RoleSessionName": "alice", **params}
    request = parse_request("AssumeRole", {k: str(v) for k, v in params.items()})
    return assume_role(StsContext(ring, directory, store), caller, request)


def session_caller(ring, outcome) -> Caller:
    creds = outcome.result.credentials
    claims, _ = verify_session(ring, creds.session_token, creds.access_key_id)
    return Caller(
        claims.arn, claims.account, "id", claims.user, claims.access_key_id, session=claims
    )


def denied(*args, **kwargs) -> StsError:
    with pytest.raises(StsError) as err:
        assume(*args, **kwargs)
    return err.value


def test_trust_naming_the_user_is_enough_in_the_same_account(ring, store) -> None:
    directory = Directory()
    arn = directory.add_role(HOME, "Deploy", trust({"AWS": ALICE}))
    outcome = assume(ring, directory, store, alice(), RoleArn=arn)
    claims = outcome.session
    assert claims is not None and claims.arn == f"arn:aws:sts::{HOME}:assumed-role/Deploy/alice"
    assert (claims.expires_at - claims.issued_at).total_seconds() == 3600
    assert outcome.result.assumed_role_user.arn == claims.arn


def test_trust_naming_the_account_needs_the_callers_identity_policy(ring, store) -> None:
    directory = Directory()
    arn = directory.add_role(HOME, "Deploy", trust({"AWS": f"arn:aws:iam::{HOME}:root"}))
    err = denied(ring, directory, store, alice(), RoleArn=arn)
    assert err.code == "AccessDenied" and f"User: {ALICE} is not authorized" in err.message
    directory.users[(HOME, "alice")] = PrincipalPolicies(identity=(allow("sts:AssumeRole", arn),))
    assert assume(ring, directory, store, alice(), RoleArn=arn).session is not None


def test_cross_account_needs_both_sides(ring, store) -> None:
    directory = Directory()
    arn = directory.add_role(OTHER, "Audit", trust({"AWS": f"arn:aws:iam::{HOME}:root"}))
    assert denied(ring, directory, store, alice(), RoleArn=arn).code == "AccessDenied"
    directory.users[(HOME, "alice")] = PrincipalPolicies(identity=(allow("sts:AssumeRole", arn),))
    assert assume(ring, directory, store, alice(), RoleArn=arn).session.account == OTHER
    untrusting = directory.add_role(OTHER, "Closed", trust({"AWS": f"arn:aws:iam::{OTHER}:root"}))
    directory.users[(HOME, "alice")] = PrincipalPolicies(identity=(allow("sts:AssumeRole"),))
    assert denied(ring, directory, store, alice(), RoleArn=untrusting).code == "AccessDenied"


def test_trust_limited_to_the_organization_by_principal_org_id(ring, store) -> None:
    """``aws:PrincipalOrgID`` is the caller's organization: present only for member accounts."""
    directory = Directory()
    condition = {"StringEquals": {"aws:PrincipalOrgID": "o-example0001"}}
    arn = directory.add_role(
        OTHER, "OrgRead", trust({"AWS": "*"}, condition=condition), max_session=3600
    )
    directory.users[(HOME, "alice")] = PrincipalPolicies(identity=(allow("sts:AssumeRole", arn),))
    assert denied(ring, directory, store, alice(), RoleArn=arn).code == "AccessDenied"
    directory.organization = ("o-example0001", frozenset({OTHER}))  # alice's account outside
    assert denied(ring, directory, store, alice(), RoleArn=arn).code == "AccessDenied"
    directory.organization = ("o-example0002", frozenset({HOME, OTHER}))  # another organization
    assert denied(ring, directory, store, alice(), RoleArn=arn).code == "AccessDenied"
    directory.organization = ("o-example0001", frozenset({HOME, OTHER}))
    assert assume(ring, directory, store, alice(), RoleArn=arn).session.account == OTHER


def test_unknown_role_is_access_denied_not_a_hint(ring, store) -> None:
    err = denied(ring, Directory(), store, alice(), RoleArn=f"arn:aws:iam::{HOME}:role/Nope")
    assert err.code == "AccessDenied"
    assert denied(ring, Directory(), store, alice(), RoleArn="not-an-arn").code == "ValidationError"


def test_external_id_condition(ring, store) -> None:
    directory = Directory()
    condition = {"StringEquals": {"sts:ExternalId": "example-7788"}}
    arn = directory.add_role(HOME, "Vendor", trust({"AWS": ALICE}, condition=condition))
    assert denied(ring, directory, store, alice(), RoleArn=arn).code == "AccessDenied"
    assert (
        denied(ring, directory, store, alice(), RoleArn=arn, ExternalId="wrong-id").code
        == "AccessDenied"
    )
    assert assume(ring, directory, store, alice(), RoleArn=arn, ExternalId="example-7788").session


def test_role_maximum_and_chaining_cap(ring, store) -> None:
    directory = Directory()
    first = directory.add_role(HOME, "First", trust({"AWS": ALICE}), max_session=43_200)
    second_trust = trust(
        {"AWS": f"arn:aws:iam::{HOME}:role/First"},
        actions=("sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"),
    )
    second = directory.add_role(HOME, "Second", second_trust, max_session=43_200)
    long = assume(ring, directory, store, alice(), RoleArn=first, DurationSeconds=43_200)
    caller = session_caller(ring, long)
    err = denied(ring, directory, store, caller, RoleArn=second, DurationSeconds=3601)
    assert err.code == "ValidationError" and "role chaining" in err.message
    chained = assume(ring, directory, store, caller, RoleArn=second, DurationSeconds=3600)
    assert chained.session.chained and chained.session.role_arn == second


def test_requested_duration_above_role_maximum_is_refused(ring, store) -> None:
    directory = Directory()
    arn = directory.add_role(HOME, "Short", trust({"AWS": ALICE}), max_session=3600)
    err = denied(ring, directory, store, alice(), RoleArn=arn, DurationSeconds=7200)
    assert err.code == "ValidationError" and "MaxSessionDuration" in err.message


def test_tags_need_tag_session_and_transitive_tags_and_source_identity_stick(ring, store) -> None:
    directory = Directory()
    plain = directory.add_role(HOME, "Plain", trust({"AWS": ALICE}))
    tags = {
        "Tags.member.1.Key": "team",
        "Tags.member.1.Value": "blue",
        "Tags.member.2.Key": "project",
        "Tags.member.2.Value": "x",
        "TransitiveTagKeys.member.1": "team",
    }
    err = denied(ring, directory, store, alice(), RoleArn=plain, **tags)
    assert "sts:TagSession" in err.message
    actions = ("sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity")
    first = directory.add_role(HOME, "First", trust({"AWS": ALICE}, actions=actions))
    second = directory.add_role(
        HOME, "Second", trust({"AWS": f"arn:aws:iam::{HOME}:role/First"}, actions=actions)
    )
    one = assume(
        ring, directory, store, alice(), RoleArn=first, SourceIdentity="alice@example.com", **tags
    )
    caller = session_caller(ring, one)
    two = assume(ring, directory, store, caller, RoleArn=second)
    assert dict(two.session.tags) == {"team": "blue"}
    assert two.session.transitive_tag_keys == ("team",)
    assert two.session.source_identity == "alice@example.com"
    clash = {"Tags.member.1.Key": "team", "Tags.member.1.Value": "red"}
    assert (
        denied(ring, directory, store, caller, RoleArn=second, **clash).code
        == "InvalidParameterValue"
    )
    changed = denied(
        ring, directory, store, caller, RoleArn=second, SourceIdentity="bob@example.com"
    )
    assert changed.code == "AccessDenied"


def test_session_policy_is_validated_stored_and_bounds_chaining(ring, store, tmp_path) -> None:
    directory = Directory()
    target = directory.add_role(HOME, "Target", trust({"AWS": f"arn:aws:iam::{HOME}:root"}))
    start = directory.add_role(
        HOME, "Start", trust({"AWS": ALICE}), policies=[allow("sts:AssumeRole", target)]
    )
    bad = denied(
        ring,
        directory,
        store,
        alice(),
        RoleArn=start,
        Policy=json.dumps({"Statement": [{"Effect": "Maybe"}]}),
    )
    assert bad.code == "MalformedPolicyDocument"
    narrow = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
        }
    )
    bounded = session_caller(
        ring, assume(ring, directory, store, alice(), RoleArn=start, Policy=narrow)
    )
    with embedded_state(tmp_path).shared.database.transaction(read_only=True) as cursor:
        cursor.execute("SELECT COUNT(*) FROM session_policies")
        assert cursor.fetchone()[0] >= 1
    assert denied(ring, directory, store, bounded, RoleArn=target).code == "AccessDenied"
    free = session_caller(ring, assume(ring, directory, store, alice(), RoleArn=start))
    assert assume(ring, directory, store, free, RoleArn=target).session.chained
