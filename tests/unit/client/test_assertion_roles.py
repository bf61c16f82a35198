"""The portal's roles from an ``aws_federation`` SAML assertion: listed, named, recorded as
``aws-saml`` profiles, and refused once a new sign-in's assertion no longer grants them.

The real index file is used (no keyring: it holds no secrets); no directory is configured, as
for a person whose IdP alone decides what they may assume.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from broker.client.assertion_roles import account_names, assertion_roles, federated_saml_providers
from broker.client.assignment_profiles import all_profiles, assignment_rows, resolve_profile
from broker.config import load_config
from broker.directory import Directory
from broker.errors import ConfigError
from broker.minters.aws_saml import ROLE_ATTRIBUTE, SESSION_DURATION_ATTRIBUTE
from broker.store.credential_store import CredentialStore
from broker.store.index import Index, SessionRow
from broker.sts.state_handle import StateHandle
from providers.base import Claims

PRINCIPAL = "arn:aws:iam::111122223333:saml-provider/Corp"
DEV = f"arn:aws:iam::111122223333:role/Dev,{PRINCIPAL}"
AUDIT = "arn:aws:iam::444455556666:saml-provider/Corp,arn:aws:iam::444455556666:role/teams/Audit"


def _claims(*roles: str, seconds: str | None = "7200") -> Claims:
    attributes = {ROLE_ATTRIBUTE: roles}
    if seconds is not None:
        attributes[SESSION_DURATION_ATTRIBUTE] = (seconds,)
    return Claims(
        provider="corp",
        issuer="https://idp.example.test/saml/metadata",
        subject="alice@example.com",
        email="alice@example.com",
        attributes=attributes,
    )


def _signed_in(store: CredentialStore, claims: Claims) -> Index:
    now = datetime.now(UTC)
    row = SessionRow("corp", claims, now + timedelta(minutes=5), now, can_refresh=False)
    return store.index.update(lambda index: dataclasses.replace(index, sessions={"corp": row}))


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "config"
    directory.mkdir()
    (directory / "broker.toml").write_text(
        '[broker]\ndefault_provider = "corp"\n\n'
        '[providers.corp]\ntype = "saml"\nidp_entity_id = "https://idp.example.test/saml/metadata"\n'
        'sso_url = "https://idp.example.test/sso"\nidp_certificate = "idp.pem"\n'
        "aws_federation = true\n\n"
        '[providers.other]\ntype = "oidc"\nissuer = "https://idp.example.com"\n'
        'client_id = "broker"\naws_federation = true\n'
    )
    return directory


@pytest.fixture
def store(tmp_path: Path) -> CredentialStore:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    return CredentialStore(home)


def _no_directory() -> Directory:
    raise AssertionError("an assertion role must not need the directory")


def test_roles_come_from_the_pairs_in_either_order_named_where_known(
    config_dir: Path, tmp_path: Path
) -> None:
    config = load_config(config_dir)
    assert federated_saml_providers(config) == {"corp"}  # the OIDC one has no assertion
    state = StateHandle(tmp_path / "data", None)
    assert account_names(config, state) == {}  # no directory here: accounts shown by id
    assert not state.opened  # nor is the state opened for one
    roles = assertion_roles(
        _claims(DEV, AUDIT, "not a pair", DEV), {"111122223333": "payments-dev"}
    )
    assert [(r.account_name, r.role_name, r.max_session_seconds) for r in roles] == [
        ("payments-dev", "Dev", 7200),
        ("444455556666", "Audit", 7200),
    ]
    assert roles[1].role_arn == "arn:aws:iam::444455556666:role/teams/Audit"
    assert roles[1].principal_arn == "arn:aws:iam::444455556666:saml-provider/Corp"
    assert assertion_roles(_claims(DEV, seconds=None), {})[0].max_session_seconds == 3600


def test_configure_rows_are_aws_saml_profiles_until_the_assertion_drops_them(
    config_dir: Path, store: CredentialStore
) -> None:
    config = load_config(config_dir)
    index = _signed_in(store, _claims(DEV, AUDIT))
    found = assignment_rows(index, None, "{account_name}.{role_name}", None, frozenset({"corp"}))
    assert [(r.profile, r.minter, r.duration) for r in found.rows] == [
        ("111122223333.Dev", "aws-saml", 7200),
        ("444455556666.Audit", "aws-saml", 7200),
    ]
    store.record_assignments(list(found.rows), replace=True)
    profile = resolve_profile(config, store, "444455556666.Audit", _no_directory)
    assert (profile.minter, profile.account, profile.role) == ("aws-saml", "444455556666", "Audit")

    _signed_in(store, _claims(DEV))  # a new sign-in no longer grants Audit
    with pytest.raises(ConfigError, match="no longer grants Audit in 444455556666"):
        resolve_profile(config, store, "444455556666.Audit", _no_directory)
    dropped: list[str] = []
    kept = all_profiles(config, store, _no_directory, on_dropped=dropped.append)
    assert "111122223333.Dev" in kept and "444455556666.Audit" not in kept
    assert len(dropped) == 1


def test_without_a_directory_other_providers_are_told(store: CredentialStore) -> None:
    index = _signed_in(store, _claims(DEV))
    assert assignment_rows(index, None).notes == (
        "no directory is configured, so no assignment profiles",
    )


def test_the_terminal_portal_lists_the_assertion_roles(config_dir: Path, tmp_path: Path) -> None:
    from broker.tui.directory_data import portal_roles
    from providers.base import SignInResult

    identity = SignInResult(_claims(DEV, AUDIT), datetime.now(UTC) + timedelta(minutes=5))
    roles = portal_roles(config_dir, StateHandle(tmp_path, None), identity)
    assert [(r.account_id, r.role_name, r.role_arn, r.via) for r in roles] == [
        ("111122223333", "Dev", "arn:aws:iam::111122223333:role/Dev", "assertion:corp"),
        (
            "444455556666",
            "Audit",
            "arn:aws:iam::444455556666:role/teams/Audit",
            "assertion:corp",
        ),
    ]
    assert {r.max_session_seconds for r in roles} == {7200}
