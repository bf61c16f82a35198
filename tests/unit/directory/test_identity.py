"""Identity mapping: which user, groups and tags an IdP's claims stand for."""

from __future__ import annotations

import pytest

from broker.errors import DirectoryError

from .conftest import demo_claims


def test_email_matches_case_insensitively(open_directory) -> None:
    claims = demo_claims("alice")
    loud = type(claims)(**{**claims.__dict__, "email": "ALICE@Example.COM"})
    assert open_directory().resolve_user(loud).name == "alice"


def test_idp_groups_are_mapped_and_joined_with_directory_memberships(open_directory) -> None:
    directory = open_directory()
    # frank is in `engineering` in the directory; the IdP also says `oncall` (mapped: on-call).
    user = directory.resolve_user(demo_claims("frank", ("oncall",)))
    assert user.groups == ("engineering", "on-call")
    vias = {a.via for a in directory.assignments_of(user)}
    assert {"group engineering", "group on-call"} <= vias


def test_unmapped_idp_groups_grant_nothing(open_directory) -> None:
    directory = open_directory()
    plain = directory.resolve_user(demo_claims("oscar"))
    claimed = directory.resolve_user(demo_claims("oscar", ("AdministratorAccess", "root", "*")))
    assert claimed.groups == plain.groups == ()
    assert directory.assignments_of(claimed) == []


def test_unknown_person_is_refused_by_default(open_directory) -> None:
    with pytest.raises(DirectoryError, match=r"'zoe@example\.com' from provider 'demo' is not in"):
        open_directory().resolve_user(demo_claims("zoe", ("engineering",)))


def test_provider_without_mapping_is_refused(open_directory) -> None:
    claims = demo_claims("alice")
    other = type(claims)(**{**claims.__dict__, "provider": "corp"})
    with pytest.raises(DirectoryError, match=r"add \[identity.corp\]"):
        open_directory().resolve_user(other)


def test_missing_identifying_claim_is_refused(open_directory) -> None:
    claims = demo_claims("alice")
    anonymous = type(claims)(**{**claims.__dict__, "email": None})
    with pytest.raises(DirectoryError, match="carries no 'email' claim"):
        open_directory().resolve_user(anonymous)


def test_jit_provisions_unknown_people_with_only_mapped_groups(config, open_directory) -> None:
    config.replace("identity.toml", 'unknown_users = "refuse"', 'unknown_users = "jit"')
    directory = open_directory()
    user = directory.resolve_user(demo_claims("zoe", ("contractors", "unmapped")))
    assert (user.name, user.jit, user.groups) == ("zoe@example.com", True, ("contractors",))
    (only,) = directory.assignments_of(user)
    assert only.via == "group contractors"


def test_jit_cannot_claim_an_existing_users_direct_assignments(config, open_directory) -> None:
    config.replace("identity.toml", 'unknown_users = "refuse"', 'unknown_users = "jit"')
    directory = open_directory()
    # A JIT user is named by the claim value (an email), never a bare directory user name.
    user = directory.resolve_user(demo_claims("newcomer"))
    assert user.name == "newcomer@example.com"
    assert all(a.via != "direct" for a in directory.assignments_of(user))


def test_match_on_name_with_sub_claim(config, open_directory) -> None:
    config.replace(
        "identity.toml",
        'user_claim = "email"\nmatch_on = "email"',
        'user_claim = "sub"\nmatch_on = "name"',
    )
    claims = demo_claims("carol")
    by_sub = type(claims)(**{**claims.__dict__, "subject": "carol", "email": "other@example.com"})
    assert open_directory().resolve_user(by_sub).name == "carol"


def test_claim_tags_become_principal_tags_and_win(config, open_directory) -> None:
    config.append("identity.toml", '[identity.demo.principal_tags]\nteam = "attr:team"\n')
    claims = demo_claims("mallory", attributes={"team": ("red",)})
    directory = open_directory()
    tags = directory.principal_tags(directory.resolve_user(claims))
    assert tags == {"team": "red", "project": "atlas"}


def test_group_policies_apply_to_members_only(config, open_directory) -> None:
    config.replace(
        "groups.toml", 'members = ["dave"]', 'members = ["dave"]\npolicies = ["Billing"]'
    )
    directory = open_directory()
    (billing,) = directory.identity_policies(directory.user("dave"))
    assert billing["Statement"][0]["Sid"] == "BillingAndCost"
    assert directory.identity_policies(directory.user("erin")) == []


def test_jit_user_never_gets_a_same_named_users_policies(config, open_directory) -> None:
    config.replace(
        "identity.toml",
        'user_claim = "email"\nmatch_on = "email"\n',
        'user_claim = "attr:login"\nmatch_on = "email"\n',
    )
    config.replace("identity.toml", 'unknown_users = "refuse"', 'unknown_users = "jit"')
    directory = open_directory()
    claims = demo_claims("x", attributes={"login": ("ci-deployer",)})
    user = directory.resolve_user(claims)
    assert (user.name, user.jit) == ("ci-deployer", True)
    assert directory.identity_policies(user) == []
    assert directory.assignments_of(user) == []


def test_an_unverified_email_identifies_no_one(open_directory) -> None:
    claims = demo_claims("alice", ("platform-admins",), attributes={"email_verified": ("false",)})
    with pytest.raises(DirectoryError, match="is not verified"):
        open_directory().resolve_user(claims)
    verified = demo_claims("alice", attributes={"email_verified": ("true",)})
    assert open_directory().resolve_user(verified).name == "alice"
