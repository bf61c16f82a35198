"""Every validation rule: a broken config yields exactly the finding that names file, key, fix."""

from __future__ import annotations

import pytest

from broker.directory import Source, validate
from broker.directory.validate import InvalidDirectoryError

from .conftest import own_findings

# (file, how to break it: (old, new) or text to append, expected (file, key, message part))
CASES = {
    "nested group": (
        "groups.toml",
        ('members = ["dave"]', 'members = ["dave", "support"]'),
        (
            "directory/groups.toml",
            "groups.finance.members",
            "group 'finance' contains group 'support'",
        ),
    ),
    "unknown group member": (
        "groups.toml",
        ('members = ["dave"]', 'members = ["dave", "zed"]'),
        ("directory/groups.toml", "groups.finance.members", "unknown user 'zed'"),
    ),
    "user and group share a name": (
        "users.toml",
        '[users.finance]\nemail = "finance@example.com"',
        ("directory/users.toml", "users.finance", "both a user and a group"),
    ),
    "duplicate email": (
        "users.toml",
        '[users.alice2]\nemail = "ALICE@example.com"',
        ("directory/users.toml", "users.alice2.email", "duplicate email"),
    ),
    "duplicate account id": (
        "organization.toml",
        '[accounts.copy]\nid = "111111111111"\nemail = "copy@example.com"',
        ("directory/organization.toml", "accounts.copy.id", "duplicate account id 111111111111"),
    ),
    "bad account id": (
        "organization.toml",
        ('id = "777777777777"', 'id = "7777"'),
        ("directory/organization.toml", "accounts.contractor-sandbox.id", "not a 12-digit"),
    ),
    "account outside the organization": (
        "organization.toml",
        ('ou = "Contractors"', 'ou = "Elsewhere"'),
        (
            "directory/organization.toml",
            "accounts.contractor-sandbox.ou",
            "outside the organization",
        ),
    ),
    "unknown management account": (
        "organization.toml",
        ('management_account = "management"', 'management_account = "nope"'),
        (
            "directory/organization.toml",
            "organization.management_account",
            "unknown account 'nope'",
        ),
    ),
    "organization id not in Organizations' form": (
        "organization.toml",
        ('id = "o-example0001"', 'id = "o-Example"'),
        ("directory/organization.toml", "organization.id", "not an Organizations id"),
    ),
    "organization id too long": (
        "organization.toml",
        ('id = "o-example0001"', f'id = "o-{"a" * 33}"'),
        ("directory/organization.toml", "organization.id", "10-32 lowercase"),
    ),
    "unknown SCP": (
        "organization.toml",
        ('scps = ["FullAWSAccess", "RestrictRegions"]', 'scps = ["FullAWSAccess", "Nope"]'),
        ("directory/organization.toml", "ous.Workloads.scps", "unknown SCP 'Nope'"),
    ),
    "OU cycle": (
        "organization.toml",
        ("[ous.Sandbox]\n", '[ous.Sandbox]\nparent = "Contractors"\n'),
        ("directory/organization.toml", "ous.Contractors.parent", "cycle"),
    ),
    "unknown parent OU": (
        "organization.toml",
        ('parent = "Workloads"\ntags = { environment = "prod" }', 'parent = "Nowhere"'),
        ("directory/organization.toml", "ous.Prod.parent", "unknown OU 'Nowhere'"),
    ),
    "session too long": (
        "permission-sets.toml",
        ('session_duration = "PT12H"', 'session_duration = "PT13H"'),
        (
            "directory/permission-sets.toml",
            "permission_sets.SecurityAudit.session_duration",
            "out of range; use PT1H to PT12H",
        ),
    ),
    "session too short": (
        "permission-sets.toml",
        ('session_duration = "PT4H"', 'session_duration = "PT30M"'),
        (
            "directory/permission-sets.toml",
            "permission_sets.AdministratorAccess.session_duration",
            "out of range",
        ),
    ),
    "session not ISO 8601": (
        "permission-sets.toml",
        ('session_duration = "PT4H"', 'session_duration = "4 hours"'),
        (
            "directory/permission-sets.toml",
            "permission_sets.AdministratorAccess.session_duration",
            "not an ISO 8601 duration",
        ),
    ),
    "missing policy file": (
        "permission-sets.toml",
        ('managed_policies = ["Billing"]', 'managed_policies = ["NoSuchPolicy"]'),
        (
            "directory/permission-sets.toml",
            "permission_sets.Billing.managed_policies",
            "no policy file NoSuchPolicy.json",
        ),
    ),
    "inline policy not JSON": (
        "permission-sets.toml",
        ('"Sid": "NeverDeletePaymentsKeys",', '"Sid": "NeverDeletePaymentsKeys",,'),
        (
            "directory/permission-sets.toml",
            "permission_sets.PaymentsDeveloper.inline_policy",
            "invalid JSON",
        ),
    ),
    "permission set name too long": (
        "permission-sets.toml",
        '[permission_sets.ThisPermissionSetNameIsFarTooLongForAWS]\nmanaged_policies = ["Billing"]',
        (
            "directory/permission-sets.toml",
            "permission_sets.ThisPermissionSetNameIsFarTooLongForAWS",
            "1-32",
        ),
    ),
    "assignment to unknown account": (
        "assignments.toml",
        ('accounts = ["management"]', 'accounts = ["management", "999999999999"]'),
        (
            "directory/assignments.toml",
            "assignments[5].accounts",
            "'999999999999' is not in the organization",
        ),
    ),
    "assignment of unknown permission set": (
        "assignments.toml",
        ('permission_set = "Billing"', 'permission_set = "Bling"'),
        (
            "directory/assignments.toml",
            "assignments[5].permission_set",
            "unknown permission set 'Bling'",
        ),
    ),
    "assignment names a group as a user": (
        "assignments.toml",
        ('user = "bob"', 'user = "finance"'),
        ("directory/assignments.toml", "assignments[10].user", "it is a group: use group ="),
    ),
    "assignment with both user and group": (
        "assignments.toml",
        ('user = "bob"', 'user = "bob"\ngroup = "finance"'),
        ("directory/assignments.toml", "assignments[10]", "exactly one of user or group"),
    ),
    "role session out of range": (
        "roles.toml",
        ("max_session_duration = 3600\ntags", "max_session_duration = 50000\ntags"),
        ("directory/roles.toml", "roles[0].max_session_duration", "50000 s is out of range"),
    ),
    "role in unknown account": (
        "roles.toml",
        ('account = "payments-staging"', 'account = "nowhere"'),
        ("directory/roles.toml", "roles[0].account", "not in the organization"),
    ),
    "reserved role name": (
        "roles.toml",
        ('name = "ci-deploy"', 'name = "AWSReservedSSO_Mine"'),
        ("directory/roles.toml", "roles[0].name", "reserved for permission sets"),
    ),
    "duplicate role": (
        "roles.toml",
        (
            '[[roles]]\naccount = "444444444445"\nname = "CI-Deploy"\n'
            'trust_policy = "trust-ci-deployer"'
        ),
        ("directory/roles.toml", "roles[3].name", "duplicate role name (also roles[0])"),
    ),
    "identity mapping to unknown group": (
        "identity.toml",
        ('oncall = "on-call"', 'oncall = "pager"'),
        (
            "directory/identity.toml",
            "identity.demo.group_map.oncall",
            "unknown directory group 'pager'",
        ),
    ),
    "identity mapping with bad user claim": (
        "identity.toml",
        ('user_claim = "email"', 'user_claim = "phone"'),
        (
            "directory/identity.toml",
            "identity.demo.user_claim",
            "use sub, email, name_id or attr:NAME",
        ),
    ),
    "unknown group policy": (
        "groups.toml",
        ('members = ["ivan"]', 'members = ["ivan"]\npolicies = ["Nope"]'),
        ("directory/groups.toml", "groups.support.policies", "no policy file Nope.json"),
    ),
    "relay state not a URL": (
        "permission-sets.toml",
        ('relay_state = "https://console.aws.amazon.com/sagemaker/home"', 'relay_state = "home"'),
        ("directory/permission-sets.toml", "permission_sets.DataScientist.relay_state", "https://"),
    ),
    "tag value too long": (
        "users.toml",
        ('tags = { department = "sales" }', f'tags = {{ department = "{"x" * 257}" }}'),
        ("directory/users.toml", "users.oscar.tags.department", "at most 256"),
    ),
    "OU named root": (
        "organization.toml",
        "[ous.root]",
        ("directory/organization.toml", "ous.root", "'root' is the organization root"),
    ),
    "user name with a space": (
        "users.toml",
        '[users."eve smith"]\nemail = "eve@example.com"',
        ("directory/users.toml", "users.eve smith", "user names are 1-64"),
    ),
    "user email without @": (
        "users.toml",
        ('email = "oscar@example.com"', 'email = "oscar"'),
        ("directory/users.toml", "users.oscar.email", "not an email address"),
    ),
    "account email without @": (
        "organization.toml",
        ('email = "aws-sandbox@example.com"', 'email = "sandbox"'),
        ("directory/organization.toml", "accounts.sandbox.email", "not an email address"),
    ),
    "assignment without accounts": (
        "assignments.toml",
        ('accounts = ["management"]', "accounts = []"),
        ("directory/assignments.toml", "assignments[5].accounts", "list at least one account"),
    ),
    "role name with a space": (
        "roles.toml",
        ('name = "ci-deploy"', 'name = "ci deploy"'),
        ("directory/roles.toml", "roles[0].name", "role names are 1-64"),
    ),
    "role path without slashes": (
        "roles.toml",
        ('path = "/service/"', 'path = "service"'),
        ("directory/roles.toml", "roles[0].path", "starts and ends with '/'"),
    ),
    "wrong type": (
        "users.toml",
        ("service = true", 'service = "yes"'),
        ("directory/users.toml", "users.ci-deployer.service", "expected bool"),
    ),
    "section in the wrong file": (
        "users.toml",
        "[groups.extra]\nmembers = []",
        ("directory/users.toml", "groups", "move it to directory/groups.toml"),
    ),
    "aws: tag key": (
        "users.toml",
        ('tags = { department = "sales" }', 'tags = { "aws:department" = "sales" }'),
        ("directory/users.toml", "users.oscar.tags.aws:department", "invalid tag key"),
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_broken_config_reports_one_precise_error(config, case) -> None:
    file, change, (want_file, want_key, want_text) = CASES[case]
    if isinstance(change, tuple):
        config.replace(file, *change)
    else:
        config.append(file, change)
    report = validate(Source(config.root))
    assert not report.ok
    assert [(f.file, f.key) for f in report.errors] == [(want_file, want_key)], report.errors
    assert want_text in report.errors[0].message


def test_invalid_policy_document_is_reported_with_its_file(config) -> None:
    config.policy("Billing", '{"Version": "2012-10-17", "Statement": [{"Effect": "Maybe"}]}')
    errors = validate(Source(config.root)).errors
    assert {(e.file, e.key) for e in errors} == {
        ("directory/permission-sets.toml", "permission_sets.Billing.managed_policies")
    }
    assert all(e.message.startswith("policies/Billing.json") for e in errors)
    assert any("Effect" in e.message for e in errors)


def test_every_problem_is_reported_at_once(config) -> None:
    config.replace("groups.toml", 'members = ["dave"]', 'members = ["dave", "support"]')
    config.replace(
        "permission-sets.toml", 'session_duration = "PT12H"', 'session_duration = "PT13H"'
    )
    config.replace("organization.toml", 'ou = "Contractors"', 'ou = "Elsewhere"')
    assert len(validate(Source(config.root)).errors) == 3


@pytest.mark.parametrize(
    ("change", "key", "text"),
    [
        (
            ("[accounts.sandbox]\n", "[accounts.sandbox]\nroot_user = { mfa = false }\n"),
            "accounts.sandbox.root_user.mfa",
            "no MFA",
        ),
        (
            ("[accounts.sandbox]\n", "[accounts.sandbox]\nroot_user = { access_keys = true }\n"),
            "accounts.sandbox.root_user.access_keys",
            "has access keys",
        ),
        (
            ('scps = ["FullAWSAccess", "RestrictRegions"]', 'scps = ["RestrictRegions"]'),
            "ous.Workloads.scps",
            "allow nothing",
        ),
    ],
)
def test_risky_but_valid_settings_are_warnings(config, change, key, text) -> None:
    config.replace("organization.toml", *change)
    report = validate(Source(config.root))
    assert report.ok
    (warning,) = own_findings(report.findings)
    assert (warning.severity, warning.key) == ("warning", key) and text in warning.message


@pytest.mark.parametrize(
    ("file", "change", "key", "text"),
    [
        (
            "groups.toml",
            ('members = ["dave"]', 'members = ["dave", "dave"]'),
            "groups.finance.members",
            "'dave' is listed twice",
        ),
        ("assignments.toml", None, "assignments[11]", "duplicates assignments[10] on 222222222223"),
        ("permission-sets.toml", None, "permission_sets.Empty", "grants nothing"),
    ],
)
def test_redundant_or_empty_settings_are_warnings(config, file, change, key, text) -> None:
    if change:
        config.replace(file, *change)
    elif file == "assignments.toml":
        config.append(
            file,
            '[[assignments]]\nuser = "bob"\npermission_set = "ReadOnlyAccess"\n'
            'accounts = ["222222222223"]',
        )
    else:
        config.append(file, "[permission_sets.Empty]")
    report = validate(Source(config.root))
    assert report.ok
    (warning,) = own_findings(report.findings)
    assert (warning.severity, warning.key) == ("warning", key) and text in warning.message


def test_a_config_without_a_directory_says_where(tmp_path) -> None:
    report = validate(Source(tmp_path))
    (error,) = report.errors
    # Relative to the config dir like every other finding, so the one-line error names the
    # path once: <config>/directory.
    assert error.file == "directory" and "create it" in error.message
    message = str(InvalidDirectoryError(report, Source(tmp_path)))
    assert message.startswith(f"{tmp_path}/directory: error: no directory configuration")


def test_missing_organization_file_is_an_error(config) -> None:
    config.path("organization.toml").unlink()
    report = validate(Source(config.root))
    assert not report.ok and report.spec is None
    assert report.errors[0].file == "directory/organization.toml"


def test_an_unreadable_file_is_one_error_not_a_cascade(config) -> None:
    config.replace("users.toml", "[users.alice]", "[users.alice")
    (error,) = validate(Source(config.root)).errors
    assert (error.file, error.key) == ("directory/users.toml", "")
    assert error.message.startswith("invalid TOML")
