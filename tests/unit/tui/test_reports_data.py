"""Shaping the credential report's rows for the Reports view."""

from __future__ import annotations

import pytest

from broker.analyzer.credential_report import COLUMNS
from broker.tui.reports_data import (
    CREDENTIAL_COLUMNS,
    credential_detail,
    root_flag,
    shape_credential_row,
)


def _row(**values: str) -> dict[str, str]:
    row = dict.fromkeys(COLUMNS, "N/A")
    row.update(
        user="<root_account>",
        arn="arn:aws:iam::444444444444:root",
        mfa_active="true",
        access_key_1_active="false",
        access_key_2_active="false",
        active_sessions="0",
    )
    row.update(values)
    return row


@pytest.mark.parametrize(
    ("values", "flag"),
    [
        ({}, ""),
        ({"mfa_active": "false"}, "no MFA"),
        ({"access_key_2_active": "true"}, "root keys"),
        ({"access_key_1_active": "true", "mfa_active": "false"}, "root keys, no MFA"),
        # A directory user without MFA is not a root user: the flag is for root rows.
        (
            {"user": "alice", "arn": "arn:aws:iam::111111111111:user/alice", "mfa_active": "false"},
            "",
        ),
    ],
)
def test_root_flag(values: dict[str, str], flag: str) -> None:
    assert root_flag(_row(**values)) == flag


def test_a_root_row_has_its_account_and_whole_times() -> None:
    shaped = shape_credential_row(
        _row(
            access_key_1_active="true",
            access_key_1_last_used_date="2026-01-02T09:00:00+00:00",
            last_sign_in="2026-01-03T10:11:12+00:00",
        )
    )
    assert shaped.flag == "root keys"
    assert len(shaped.cells) == len(CREDENTIAL_COLUMNS)
    assert shaped.cells[1:] == (
        "444444444444",
        "root",
        "yes",
        "active",
        "2026-01-02T09:00:00+00:00",
        "-",
        "2026-01-03T10:11:12+00:00",
        "0",
    )


def test_a_user_row_keeps_its_name_and_account() -> None:
    shaped = shape_credential_row(
        _row(user="carol-long-name", arn="arn:aws:iam::111111111111:user/carol-long-name")
    )
    assert shaped.cells[1:3] == ("111111111111", "carol-long-name")


def test_the_detail_names_both_mfa_notions_and_every_key_fact() -> None:
    lines = credential_detail(
        _row(
            mfa_active="false",
            access_key_2_active="true",
            access_key_2_last_used_region="eu-west-1",
            access_key_2_last_used_service="s3",
        )
    )
    text = "\n".join(lines)
    assert lines[0].startswith("root user of account 444444444444")
    assert "MFA device (directory TOTP): no" in text and "amr" in text
    assert "key 2: active" in text and "in eu-west-1 by s3" in text
