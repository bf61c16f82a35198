"""The adapter against the real core on the shipped demo configuration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from broker.errors import DirectoryError
from broker.tui.app import app_services
from providers.base import Claims, SignInResult
from providers.embedded.users import ISSUER, load_users


def demo(name: str) -> SignInResult:
    services = app_services()
    user = load_users(services.config_dir)[name]
    claims = Claims(
        provider="demo",
        issuer=ISSUER,
        subject=user.subject,
        email=user.email,
        name=user.name,
        groups=user.groups,
        mfa=user.mfa,
    )
    return SignInResult(claims=claims, expires_at=datetime.now(UTC) + timedelta(hours=1))


def test_portal_roles_come_from_the_directory_once_per_role(broker_home) -> None:
    roles = app_services().portal_roles(demo("alice"))
    keys = [role.key for role in roles]
    assert len(keys) == len(set(keys))  # one row per role, every path in `via`
    assert {role.permission_set for role in roles} == {
        "AdministratorAccess",
        "PowerUserAccess",
        "ReadOnlyAccess",
    }
    for role in roles:
        assert len(role.account_id) == 12 and role.account_id.isdigit()
        assert role.role_arn.startswith(f"arn:aws:iam::{role.account_id}:role/")
        assert role.role_arn.endswith(role.role_name)
        assert 3600 <= role.max_session_seconds <= 12 * 3600
        assert role.via
        assert role.email  # the account's email is searchable


def test_a_person_not_in_the_directory_is_refused(broker_home) -> None:
    stranger = SignInResult(
        claims=Claims(provider="demo", issuer=ISSUER, subject="x", email="nobody@example.com"),
        expires_at=datetime.now(UTC),
    )
    with pytest.raises(DirectoryError):
        app_services().portal_roles(stranger)


def test_demo_users_say_what_each_gets(broker_home) -> None:
    users = dict(app_services().demo_users())
    assert users["carol"] == "2 accounts: DataScientist · IdP MFA"  # the IdP's amr, named so
    assert users["oscar"] == "0 accounts: nothing assigned · no IdP MFA"


def test_sessions_read_the_store_index_with_account_names(broker_home) -> None:
    from dataclasses import replace

    from broker.store.index import IndexFile, ProfileRow

    expires = datetime(2026, 1, 2, 10, 0, tzinfo=UTC)
    services = app_services()
    accounts = {a[0]: a[1] for a in services.directory_tables().accounts}
    name, grouped_id = next(iter(accounts.items()))
    account_id = grouped_id.replace(" ", "")
    row = ProfileRow("dev", "demo", account_id, "Developer", expires, "ABKEXAMPLE0000000001")
    IndexFile(broker_home / "store").update(lambda index: replace(index, profiles={"dev": row}))
    [shown] = services.sessions()
    assert (shown.profile, shown.account_id, shown.account_name) == ("dev", account_id, name)
    assert shown.role_name == "Developer" and shown.expiration == expires
    assert shown.refreshable is False  # no stored IdP session for "demo"
