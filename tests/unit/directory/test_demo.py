"""The shipped demo organization: valid, loadable, and every demo IdP user sees what they should."""

from __future__ import annotations

import json
import tomllib

import jsonschema
import pytest

from broker.directory import Source, validate
from broker.directory.jsonschema import directory_schema
from broker.directory.naming import SSO_ROLE_PATH, sso_role_name
from broker.errors import DirectoryError
from providers.embedded.users import load_users
from tests.conftest import CONFIG

from .conftest import demo_claims, own_findings

# The embedded IdP's users (config/idp/demo-users.toml), read the way the IdP reads them.
IDP_USERS = load_users(CONFIG)


def claims_of(name: str):
    user = IDP_USERS[name]
    return demo_claims(name, user.groups, mfa=user.mfa, subject=user.subject)


def test_the_idp_has_the_agreed_demo_users() -> None:
    assert set(IDP_USERS) == {
        "alice",
        "bob",
        "carol",
        "dave",
        "erin",
        "frank",
        "grace",
        "heidi",
        "ivan",
        "judy",
        "mallory",
        "oscar",
    }
    assert IDP_USERS["oscar"].groups == ()


def test_every_idp_group_maps_to_a_directory_group(open_directory) -> None:
    mapping = open_directory().identity_mapping("demo")
    used = {group for user in IDP_USERS.values() for group in user.groups}
    assert used <= set(mapping.group_map)


def test_shipped_config_is_valid_and_its_only_warnings_are_about_policy_contents() -> None:
    report = validate(Source(CONFIG))
    assert report.ok
    # The policy engine may flag e.g. AdministratorAccess's "*" on "*"; the directory's own
    # rules (references, root users, SCP levels) find nothing.
    assert own_findings(report.findings) == []


def test_the_demo_organization_has_an_organizations_id() -> None:
    with (CONFIG / "directory" / "organization.toml").open("rb") as handle:
        org_id = tomllib.load(handle)["organization"]["id"]
    assert org_id.startswith("o-") and 10 <= len(org_id) - 2 <= 32
    assert org_id[2:].isalnum() and org_id[2:] == org_id[2:].lower()


def test_member_accounts_carry_the_organization_id_for_principal_org_id(
    config, open_directory
) -> None:
    """``aws:PrincipalOrgID`` comes from here: the id for member accounts only, none when the
    organization declares no id (a snapshot built before the id existed is rebuilt)."""
    directory = open_directory()
    members = [a.id for a in directory.accounts()]
    assert members and all(directory.organization_id(a) == "o-example0001" for a in members)
    assert directory.organization_id("999999999999") is None
    config.replace("organization.toml", 'id = "o-example0001"\n', "")
    assert open_directory().organization_id(members[0]) is None


def test_committed_json_schema_is_generated_from_the_models() -> None:
    committed = json.loads((CONFIG / "directory" / "directory.schema.json").read_text())
    assert committed == directory_schema()
    jsonschema.Draft202012Validator.check_schema(committed)


@pytest.mark.parametrize("path", sorted((CONFIG / "directory").glob("*.toml")), ids=str)
def test_each_demo_file_validates_against_the_schema(path) -> None:
    with path.open("rb") as handle:
        jsonschema.validate(tomllib.load(handle), directory_schema())


def test_schema_and_loader_both_reject_an_unknown_key(config) -> None:
    config.replace("users.toml", 'display_name = "Alice"', 'display_name = "Alice"\nshell = "x"')
    with config.path("users.toml").open("rb") as handle:
        data = tomllib.load(handle)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, directory_schema())
    findings = validate(Source(config.root)).errors
    assert [(f.key, "unknown key" in f.message) for f in findings] == [("users.alice.shell", True)]


def test_every_idp_user_resolves_to_the_directory_user(open_directory) -> None:
    directory = open_directory()
    for name in IDP_USERS:
        assert directory.resolve_user(claims_of(name)).name == name


def test_oscar_sees_nothing(open_directory) -> None:
    assert open_directory().assignments_for(claims_of("oscar")) == []


def test_every_other_idp_user_sees_something(open_directory) -> None:
    directory = open_directory()
    for name in set(IDP_USERS) - {"oscar"}:
        assert directory.assignments_for(claims_of(name)), name


def test_platform_admins_administer_every_account(open_directory) -> None:
    directory = open_directory()
    admin = {
        a.account_id
        for a in directory.assignments_for(claims_of("alice"))
        if a.permission_set == "AdministratorAccess"
    }
    assert admin == {a.id for a in directory.accounts()}


def test_mallory_gets_one_narrow_role_fenced_by_the_contractor_scp(open_directory) -> None:
    directory = open_directory()
    (only,) = directory.assignments_for(claims_of("mallory"))
    assert (only.account_name, only.permission_set, only.via) == (
        "contractor-sandbox",
        "ContractorDeveloper",
        "group contractors",
    )
    assert only.max_session_duration == 3600
    levels = directory.scp_hierarchy(only.account_id)
    sids = [[s.get("Sid") for doc in level for s in doc["Statement"]] for level in levels]
    assert "NoIdentityChanges" in sids[2] and "OnlyIreland" in sids[2]
    assert not directory.is_management_account(only.account_id)
    assert directory.principal_tags(directory.resolve_user(claims_of("mallory")))["project"] == (
        "atlas"
    )


def test_grace_is_on_call_through_the_mapped_idp_group(open_directory) -> None:
    sets = {a.permission_set for a in open_directory().assignments_for(claims_of("grace"))}
    assert "OnCallOperator" in sets


def test_bob_has_a_direct_assignment_and_group_ones(open_directory) -> None:
    vias = {(a.account_name, a.via) for a in open_directory().assignments_for(claims_of("bob"))}
    assert ("log-archive", "direct") in vias
    assert ("payments-staging", "group payments-developers") in vias


def test_assignment_materialises_as_identity_center_role(open_directory) -> None:
    directory = open_directory()
    found = directory.assignments_for(claims_of("carol"))
    data = next(a for a in found if a.account_name == "data-platform")
    name = sso_role_name("DataScientist", "555555555555")
    assert data.role_name == name and name.startswith("AWSReservedSSO_DataScientist_")
    assert len(name.rpartition("_")[2]) == 16
    assert data.role_arn == f"arn:aws:iam::555555555555:role{SSO_ROLE_PATH}{name}"
    role = directory.role("555555555555", name)
    assert role.permissions_boundary is not None
    assert role.max_session_duration == 8 * 3600
    (statement,) = role.trust_policy["Statement"]
    assert set(statement["Principal"]) == {"Federated"}
    assert "saml-provider/AWSSSO_AccessBroker" in statement["Principal"]["Federated"]


def test_a_permission_set_role_exists_only_where_assigned(open_directory) -> None:
    directory = open_directory()
    with pytest.raises(DirectoryError, match="no role"):
        directory.role("111111111111", sso_role_name("DataScientist", "111111111111"))
    with pytest.raises(DirectoryError, match="no role"):
        directory.role("555555555555", "AWSReservedSSO_DataScientist_0000000000000000")


def test_plain_role_carries_its_documents(open_directory) -> None:
    role = open_directory().role("444444444445", "ci-deploy")
    assert role.arn == "arn:aws:iam::444444444445:role/service/ci-deploy"
    assert role.trust_policy["Statement"][0]["Principal"]["AWS"].endswith(":user/ci-deployer")
    assert len(role.permission_policies) == 1 and role.permissions_boundary is not None
    assert role.permission_set is None


def test_only_the_management_account_is_management(open_directory) -> None:
    directory = open_directory()
    assert [a.name for a in directory.accounts() if directory.is_management_account(a.id)] == [
        "management"
    ]


def test_levels_without_scps_get_full_aws_access(open_directory) -> None:
    levels = open_directory().scp_hierarchy("666666666666")  # sandbox: root, Sandbox, account
    assert len(levels) == 3
    assert (
        levels[1]
        == levels[2]
        == [
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Sid": "FullAWSAccess", "Effect": "Allow", "Action": "*", "Resource": "*"}
                ],
            }
        ]
    )


def test_service_user_holds_its_own_identity_policy(open_directory) -> None:
    directory = open_directory()
    (policy,) = directory.identity_policies(directory.user("ci-deployer"))
    assert policy["Statement"][0]["Resource"].endswith(":role/service/ci-deploy")
    assert directory.identity_policies(directory.user("alice")) == []


def test_service_user_arn_is_the_one_the_ci_role_trusts(open_directory) -> None:
    directory = open_directory()
    role = directory.role("444444444445", "ci-deploy")
    trusted = role.trust_policy["Statement"][0]["Principal"]["AWS"]
    assert directory.user_arn("ci-deployer") == trusted
