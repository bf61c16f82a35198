"""`broker directory ...` and `broker assignments`: run_… functions and the real command."""

from __future__ import annotations

import io
import json

import pytest

from broker.commands.directory import (
    AssignmentsInput,
    ListInput,
    ValidateInput,
    run_assignments,
    run_list,
    run_show,
    run_validate,
)
from broker.errors import DirectoryError, UsageError
from tests.conftest import one_line

from .conftest import demo_claims


def test_validate_prints_every_finding_and_exits_1(config) -> None:
    config.replace("groups.toml", 'members = ["dave"]', 'members = ["dave", "support"]')
    config.replace(
        "organization.toml",
        "[accounts.sandbox]\n",
        "[accounts.sandbox]\nroot_user = { mfa = false }\n",
    )
    out, err = io.StringIO(), io.StringIO()
    assert run_validate(ValidateInput(config.root, json=False), out, err) == 1
    # Lines about policy contents come from the policy engine (when installed); the rest:
    lines = [line for line in out.getvalue().splitlines() if " policies/" not in line]
    assert lines == [
        "directory/groups.toml: groups.finance.members: error: group 'finance' contains group "
        "'support': groups cannot contain groups; list 'support''s users instead",
        "directory/organization.toml: accounts.sandbox.root_user.mfa: warning: the root user "
        "has no MFA device; enable MFA on the root user",
    ]
    assert "INVALID: 1 error(s)" in one_line(err.getvalue())


def test_validate_accepts_the_directory_subfolder_and_json(config) -> None:
    config.replace(
        "permission-sets.toml", 'session_duration = "PT12H"', 'session_duration = "PT36H"'
    )
    out, err = io.StringIO(), io.StringIO()
    assert run_validate(ValidateInput(config.root / "directory", json=True), out, err) == 1
    (finding,) = [f for f in json.loads(out.getvalue()) if f["severity"] == "error"]
    assert finding["severity"] == "error"
    assert finding["key"] == "permission_sets.SecurityAudit.session_duration"


def test_valid_config_exits_0_with_nothing_on_stdout(config) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert run_validate(ValidateInput(config.root, json=False), out, err) == 0
    assert all(" policies/" in line for line in out.getvalue().splitlines())
    assert "valid: 0 error(s)" in err.getvalue()


def test_assignments_for_a_user_table_says_why(open_directory) -> None:
    out, err = io.StringIO(), io.StringIO()
    run_assignments(AssignmentsInput("bob", None, False), out, err, open_directory())
    header, *rows = out.getvalue().splitlines()
    assert header.split()[:4] == ["ACCOUNT", "NAME", "PERMISSION", "SET"]
    log_archive = next(r for r in rows if "log-archive" in r)
    assert "ReadOnlyAccess" in log_archive and "direct" in log_archive
    assert ":role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_ReadOnlyAccess_" in log_archive


def test_assignments_from_claims_file_as_json(open_directory, tmp_path) -> None:
    claims = tmp_path / "claims.json"
    claims.write_text(json.dumps(demo_claims("grace", ("payments-developers", "oncall")).to_json()))
    out, err = io.StringIO(), io.StringIO()
    run_assignments(AssignmentsInput(None, claims, True), out, err, open_directory())
    data = json.loads(out.getvalue())
    assert data["user"]["name"] == "grace"
    oncall = [a for a in data["assignments"] if a["permission_set"] == "OnCallOperator"]
    assert oncall == [
        {
            "account_id": "444444444444",
            "account_name": "payments-prod",
            "permission_set": "OnCallOperator",
            "role_name": oncall[0]["role_name"],
            "role_arn": oncall[0]["role_arn"],
            "max_session_duration": 3600,
            "via_group": "on-call",
            "via": "group on-call",
        }
    ]


def test_empty_state_goes_to_stderr(open_directory) -> None:
    out, err = io.StringIO(), io.StringIO()
    run_assignments(AssignmentsInput("oscar", None, False), out, err, open_directory())
    assert out.getvalue() == "" and err.getvalue() == "oscar has no account assignments\n"


def test_bad_claims_file_is_a_usage_error(open_directory, tmp_path) -> None:
    bad = tmp_path / "claims.json"
    bad.write_text('{"email": "alice@example.com"}')
    with pytest.raises(UsageError, match="not a claims JSON object"):
        run_assignments(
            AssignmentsInput(None, bad, False), io.StringIO(), io.StringIO(), open_directory()
        )


def test_unknown_user_is_a_directory_error(open_directory) -> None:
    with pytest.raises(DirectoryError, match="no user 'zed'"):
        run_assignments(
            AssignmentsInput("zed", None, False), io.StringIO(), io.StringIO(), open_directory()
        )


@pytest.mark.parametrize("kind", ["users", "groups", "accounts", "permission-sets"])
def test_lists_as_json_and_table(open_directory, kind) -> None:
    directory = open_directory()
    out = io.StringIO()
    run_list(ListInput(kind, True), out, directory)
    items = json.loads(out.getvalue())
    table = io.StringIO()
    run_list(ListInput(kind, False), table, directory)
    rows = table.getvalue().splitlines()
    assert len(rows) == len(items) + 1
    key = "id" if kind == "accounts" else "name"
    assert all(str(item[key]) in row for item, row in zip(items, rows[1:], strict=True))


def test_show_draws_the_organization(open_directory) -> None:
    out = io.StringIO()
    run_show(False, out, open_directory())
    text = out.getvalue()
    assert text.startswith("10 accounts, 7 ous, 5 scps, 13 users, 9 groups")
    assert "    OU Contractors\n      777777777777  contractor-sandbox\n" in text


# -- the real command -----------------------------------------------------------------------


def test_cli_assignments_json(run_broker) -> None:
    result = run_broker("assignments", "--user", "mallory", "--json")
    assert result.returncode == 0, result.stderr
    (only,) = json.loads(result.stdout)["assignments"]
    assert only["permission_set"] == "ContractorDeveloper"


def test_cli_validate_bad_dir_exit_1(run_broker, config) -> None:
    config.replace("assignments.toml", 'permission_set = "Billing"', 'permission_set = "Bling"')
    result = run_broker("directory", "validate", str(config.root))
    assert result.returncode == 1
    assert "unknown permission set 'Bling'" in result.stdout


def test_cli_invalid_config_refuses_other_commands_with_one_line(run_broker, config) -> None:
    config.replace("assignments.toml", 'permission_set = "Billing"', 'permission_set = "Bling"')
    result = run_broker("--config", str(config.root), "directory", "users")
    assert result.returncode == 3
    assert "broker directory validate" in one_line(result.stderr)
    assert result.stdout == ""


def test_cli_schema_is_the_committed_file(run_broker) -> None:
    from tests.conftest import CONFIG

    result = run_broker("directory", "schema")
    assert json.loads(result.stdout) == json.loads(
        (CONFIG / "directory" / "directory.schema.json").read_text()
    )


def test_cli_needs_a_subcommand_or_a_person(run_broker) -> None:
    assert run_broker("directory").returncode == 2
    result = run_broker("assignments")
    assert result.returncode == 2 and "--user NAME, --claims FILE or --provider NAME" in one_line(
        result.stderr
    )


def test_mfa_enable_prints_qr_and_uri_once_and_verify_exit_codes(open_directory, data_dir) -> None:
    import pyotp

    from broker.commands.directory_mfa import MfaInput, run_mfa
    from tests.state_support import embedded_state

    from .test_mfa import KeyringDouble

    directory, keyring = open_directory(), KeyringDouble()
    audit = embedded_state(data_dir).shared.audit
    out, err = io.StringIO(), io.StringIO()
    assert run_mfa(MfaInput("enable", "heidi", "totp"), out, err, directory, keyring, audit) == 0
    *qr, uri = out.getvalue().splitlines()
    assert len(qr) > 10 and uri.startswith("otpauth://totp/")
    secret = keyring.items["mfa/heidi/totp"]
    assert f"secret={secret}" in uri and secret not in err.getvalue()
    assert "not shown again" in one_line(err.getvalue())
    code = pyotp.TOTP(secret).now()
    verify = MfaInput("verify", "heidi", "totp", code)
    assert run_mfa(verify, io.StringIO(), io.StringIO(), directory, keyring, audit) == 0
    refused = io.StringIO()
    assert run_mfa(verify, io.StringIO(), refused, directory, keyring, audit) == 1
    assert "already used" in refused.getvalue()


def test_cli_mfa_without_an_os_keyring_fails_closed(run_broker, broker_home) -> None:
    result = run_broker(
        "directory",
        "mfa",
        "enable",
        "alice",
        env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"},
    )
    assert result.returncode == 8
    assert "no secure OS keyring is available" in one_line(result.stderr)
    assert result.stdout == ""
    listing = run_broker("directory", "mfa", "list", "alice")
    assert listing.returncode == 0 and listing.stdout == ""


def test_accounts_table_flags_root_users_without_mfa_or_with_keys(config, open_directory) -> None:
    config.replace(
        "organization.toml",
        "[accounts.sandbox]\n",
        "[accounts.sandbox]\nroot_user = { mfa = false, access_keys = true }\n",
    )
    out = io.StringIO()
    run_list(ListInput("accounts", False), out, open_directory())
    rows = {line.split()[1]: line for line in out.getvalue().splitlines()[1:]}
    assert "NO MFA,ACCESS KEYS" in rows["sandbox"]
    assert " ok " in rows["management"]
