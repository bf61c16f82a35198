"""The credential report's rows, from facts and audit events built here."""

from __future__ import annotations

from datetime import timedelta

from broker.analyzer.credential_report import (
    COLUMNS,
    KeyFacts,
    RootFacts,
    UserFacts,
    credential_report,
)
from tests.unit.reports.events import NOW, authorize, key_caller, sign_in

ACCOUNT = "111111111111"
ALICE = UserFacts("alice", "alice@example.com", "arn:aws:iam::111111111111:user/alice", True)
DEPLOYER = UserFacts(
    "deployer", "deployer@example.com", "arn:aws:iam::111111111111:user/deployer", False
)
ROLE = "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Dev_0123"


def _by_user(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {row["user"]: row for row in rows if row["user"] != "<root_account>"}


def test_columns_are_iams_in_order_then_the_brokers() -> None:
    assert COLUMNS[:8] == (
        "user",
        "arn",
        "user_creation_time",
        "password_enabled",
        "password_last_used",
        "password_last_changed",
        "password_next_rotation",
        "mfa_active",
    )
    assert COLUMNS[8:13] == (
        "access_key_1_active",
        "access_key_1_last_rotated",
        "access_key_1_last_used_date",
        "access_key_1_last_used_region",
        "access_key_1_last_used_service",
    )
    assert COLUMNS[18:22] == (
        "cert_1_active",
        "cert_1_last_rotated",
        "cert_2_active",
        "cert_2_last_rotated",
    )
    assert COLUMNS[22:] == ("identity_provider", "last_sign_in", "active_sessions")


def test_two_keys_one_used_one_never() -> None:
    old = KeyFacts("BRKUOLDKEY0000000001", "deployer", True, NOW - timedelta(days=400), ACCOUNT)
    new = KeyFacts("BRKUNEWKEY0000000002", "deployer", False, NOW - timedelta(days=10), ACCOUNT)
    used = NOW - timedelta(days=1)
    events = [
        authorize(
            key_caller("deployer", old.access_key_id), "s3:GetObject", used - timedelta(days=3)
        ),
        authorize(
            key_caller("deployer", old.access_key_id),
            "lambda:UpdateFunctionCode",
            used,
            region="eu-central-1",
        ),
        # a refused signature naming the second key is not use of it
        {
            **authorize(key_caller("deployer", new.access_key_id), "s3:GetObject", used),
            "userIdentity": {"type": "Unknown", "accessKeyId": new.access_key_id},
        },
    ]
    row = _by_user(credential_report([ALICE, DEPLOYER], [], [new, old], events, NOW))["deployer"]
    assert row["access_key_1_active"] == "true"
    assert row["access_key_1_last_rotated"] == "2025-04-27T12:00:00+00:00"
    assert row["access_key_1_last_used_date"] == "2026-05-31T12:00:00+00:00"
    assert row["access_key_1_last_used_region"] == "eu-central-1"
    assert row["access_key_1_last_used_service"] == "lambda"
    assert row["access_key_2_active"] == "false"
    assert row["access_key_2_last_rotated"] == "2026-05-22T12:00:00+00:00"
    for column in ("date", "region", "service"):
        assert row[f"access_key_2_last_used_{column}"] == "N/A"
    assert row["mfa_active"] == "false"


def test_user_without_keys_or_password_follows_iams_conventions() -> None:
    row = _by_user(credential_report([ALICE], [], [], [], NOW))["alice"]
    assert row["arn"] == ALICE.arn
    assert row["mfa_active"] == "true"
    assert row["password_enabled"] == "false"
    assert row["password_last_used"] == row["password_last_changed"] == "N/A"
    assert row["access_key_1_active"] == row["access_key_2_active"] == "false"
    assert row["access_key_1_last_rotated"] == "N/A"
    assert row["cert_1_active"] == row["cert_2_active"] == "false"
    assert row["last_sign_in"] == "N/A"
    assert row["active_sessions"] == "0"


def test_root_with_keys_and_no_mfa_stands_out() -> None:
    roots = [RootFacts("222222222222", False, True), RootFacts("333333333333", True, False)]
    rows = credential_report([ALICE], roots, [], [], NOW)
    assert [r["user"] for r in rows] == ["<root_account>", "<root_account>", "alice"]
    risky, safe = rows[0], rows[1]
    assert risky["arn"] == "arn:aws:iam::222222222222:root"
    assert risky["mfa_active"] == "false"
    assert risky["access_key_1_active"] == "true"
    assert risky["password_enabled"] == "not_supported"
    assert safe["mfa_active"] == "true"
    assert safe["access_key_1_active"] == safe["access_key_2_active"] == "false"


def test_last_sign_in_provider_and_active_sessions_from_minted_sessions() -> None:
    events = [
        sign_in(
            "alice", "alice@example.com", ROLE, NOW - timedelta(hours=5), NOW - timedelta(hours=4)
        ),
        sign_in(
            "alice",
            "alice@example.com",
            ROLE,
            NOW - timedelta(hours=2),
            NOW + timedelta(hours=2),
            provider="corp-saml",
        ),
        sign_in(
            "alice",
            "alice@example.com",
            ROLE,
            NOW - timedelta(minutes=30),
            NOW + timedelta(hours=8),
        ),
        # refused: neither a sign-in nor a session
        sign_in(
            "alice",
            "alice@example.com",
            ROLE,
            NOW - timedelta(minutes=1),
            NOW + timedelta(hours=1),
            error="AccessDenied",
        ),
        # matched by email when the IdP's user name is its subject
        sign_in(
            "idp-subject-42",
            "deployer@example.com",
            ROLE,
            NOW - timedelta(days=3),
            NOW - timedelta(days=2),
        ),
    ]
    rows = _by_user(credential_report([ALICE, DEPLOYER], [], [], events, NOW))
    assert rows["alice"]["last_sign_in"] == "2026-06-01T11:30:00+00:00"
    assert rows["alice"]["identity_provider"] == "demo"
    assert rows["alice"]["active_sessions"] == "2"
    assert rows["deployer"]["last_sign_in"] == "2026-05-29T12:00:00+00:00"
    assert rows["deployer"]["active_sessions"] == "0"


def test_every_row_has_every_column_in_order() -> None:
    rows = credential_report([ALICE], [RootFacts("222222222222", True, False)], [], [], NOW)
    assert all(tuple(row) == COLUMNS for row in rows)


SERVICE_ACCOUNT = "111122223333"


def test_a_service_user_outside_the_directory_has_its_own_row() -> None:
    key = KeyFacts(
        "BRKUSVCAPPKEY0000001", "svc-app", True, NOW - timedelta(days=90), "111122223333"
    )
    used = NOW - timedelta(hours=3)
    events = [
        authorize(key_caller("svc-app", key.access_key_id, SERVICE_ACCOUNT), "sqs:Send", used)
    ]
    rows = credential_report(
        [ALICE], [], [key], events, NOW, sts_mfa={(SERVICE_ACCOUNT, "svc-app")}
    )
    assert [r["user"] for r in rows] == ["alice", "svc-app"]
    row = rows[1]
    assert tuple(row) == COLUMNS
    assert row["arn"] == "arn:aws:iam::111122223333:user/svc-app"
    assert row["password_enabled"] == "false"
    assert row["password_last_used"] == row["password_last_changed"] == "N/A"
    assert row["mfa_active"] == "true"
    assert row["access_key_1_active"] == "true"
    assert row["access_key_1_last_rotated"] == (NOW - timedelta(days=90)).isoformat()
    assert row["access_key_1_last_used_date"] == used.isoformat()
    assert row["access_key_1_last_used_service"] == "sqs"
    assert row["access_key_2_active"] == "false"
    assert (row["identity_provider"], row["last_sign_in"], row["active_sessions"]) == (
        "N/A",
        "N/A",
        "0",
    )


def test_an_mfa_device_alone_makes_a_row_and_without_one_mfa_is_false() -> None:
    key = KeyFacts("BRKUSVCKEY0000000001", "svc-build", False, NOW, SERVICE_ACCOUNT)
    rows = _by_arn(credential_report([], [], [key], [], NOW, sts_mfa={("444455556666", "svc-ci")}))
    device_only = rows["arn:aws:iam::444455556666:user/svc-ci"]
    assert device_only["mfa_active"] == "true"
    assert device_only["access_key_1_active"] == "false"
    assert device_only["access_key_1_last_rotated"] == "N/A"
    keys_only = rows["arn:aws:iam::111122223333:user/svc-build"]
    assert keys_only["mfa_active"] == "false"
    assert keys_only["access_key_1_active"] == "false"  # an inactive key is still listed
    assert keys_only["access_key_1_last_rotated"] == NOW.isoformat()


def test_a_same_named_directory_user_keeps_only_its_own_principals_facts() -> None:
    """alice of the directory and alice, an IAM user of another account: two principals."""
    theirs = KeyFacts("BRKUELSEWHERE0000001", "alice", True, NOW, SERVICE_ACCOUNT)
    events = [
        authorize(key_caller("alice", theirs.access_key_id, SERVICE_ACCOUNT), "s3:GetObject", NOW),
        sign_in("alice", "alice@example.com", ROLE, NOW, NOW + timedelta(hours=1)),
    ]
    rows = _by_arn(credential_report([ALICE], [], [theirs], events, NOW))
    mine = rows[ALICE.arn]
    assert mine["access_key_1_active"] == "false" and mine["access_key_1_last_used_date"] == "N/A"
    assert mine["active_sessions"] == "1"  # the directory user's own sign-in
    other = rows["arn:aws:iam::111122223333:user/alice"]
    assert other["user"] == "alice"
    assert other["access_key_1_active"] == "true"
    assert other["access_key_1_last_used_date"] == NOW.isoformat()
    assert other["mfa_active"] == "false"  # not the directory alice's device
    assert (other["last_sign_in"], other["active_sessions"]) == ("N/A", "0")  # no IdP sign-in


def test_a_directory_users_own_keys_make_no_second_row() -> None:
    own = KeyFacts("BRKUOWNKEY0000000001", "deployer", True, NOW, ACCOUNT)
    rows = credential_report([ALICE, DEPLOYER], [], [own], [], NOW, sts_mfa={(ACCOUNT, "deployer")})
    assert [r["user"] for r in rows] == ["alice", "deployer"]
    assert rows[1]["access_key_1_active"] == "true"
    assert rows[1]["mfa_active"] == "false"  # a directory row takes MFA from its UserFacts


def _by_arn(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {row["arn"]: row for row in rows}
