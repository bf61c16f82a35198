"""Profiles per account assignment: naming, recording, resolving, and refusing removed ones.

Runs against the shipped demo directory (loaded into a temporary data directory) and the real
index file; no keyring is touched (the index holds no secrets).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from broker.client.assignment_profiles import (
    DEFAULT_TEMPLATE,
    all_profiles,
    assignment_rows,
    profile_name,
    resolve_profile,
)
from broker.config import load_config
from broker.directory import Directory
from broker.errors import ConfigError, UsageError
from broker.store.credential_store import CredentialStore
from broker.store.index import AssignmentRow, Index, SessionRow
from broker.sts.directory_state import open_directory
from providers.base import Claims
from tests.conftest import CONFIG

ISSUER = "https://development-only.embedded-idp.invalid"


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Directory:
    home = tmp_path_factory.mktemp("directory-home")
    home.chmod(0o700)
    return open_directory(CONFIG, home, None)


def _signed_in(store: CredentialStore, *users: tuple[str, str]) -> Index:
    now = datetime.now(UTC)
    sessions = {
        provider: SessionRow(
            provider=provider,
            claims=Claims(provider=provider, issuer=ISSUER, subject=f"sub-{user}", email=user),
            expires_at=now + timedelta(hours=1),
            signed_in_at=now,
            can_refresh=True,
        )
        for provider, user in users
    }
    return store.index.update(lambda index: dataclasses.replace(index, sessions=sessions))


@pytest.fixture
def store(tmp_path: Path) -> CredentialStore:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    return CredentialStore(home)


def test_one_row_per_assignment_named_by_the_default_template(
    store: CredentialStore, directory: Directory
) -> None:
    index = _signed_in(store, ("demo", "bob@example.com"))
    found = assignment_rows(index, directory)
    held = directory.assignments_of(directory.user("bob"))
    expected = {f"{a.account_name}.{a.permission_set}" for a in held}
    assert {row.profile for row in found.rows} == expected
    assert len(found.rows) == len(expected)  # one row per role, however many ways it is held
    row = next(r for r in found.rows if r.profile == "log-archive.ReadOnlyAccess")
    assert row.provider == "demo" and row.account == "222222222223"
    assert row.role.startswith("AWSReservedSSO_ReadOnlyAccess_")
    assert DEFAULT_TEMPLATE == "{account_name}.{permission_set}"


def test_template_placeholders_and_their_errors(
    store: CredentialStore, directory: Directory
) -> None:
    index = _signed_in(store, ("demo", "mallory@example.com"))
    [row] = assignment_rows(index, directory, "{user}@{account_id}-{provider}").rows
    assert row.profile == "mallory@777777777777-demo"
    [row] = assignment_rows(index, directory, "{role_name}").rows
    assert row.profile == row.role and row.role.startswith("AWSReservedSSO_ContractorDeveloper_")
    with pytest.raises(UsageError, match=r"bad name template.*\{account_name\}"):
        assignment_rows(index, directory, "{account}")
    with pytest.raises(UsageError, match="not a profile name"):
        assignment_rows(index, directory, "{account_name} {permission_set}")
    # A name can never smuggle a line (or a section) into ~/.aws/config.
    injected = "{account_name}]\ncredential_process = /tmp/evil\n[x"
    with pytest.raises(UsageError, match="not a profile name"):
        assignment_rows(index, directory, injected)
    [row] = assignment_rows(index, directory, region="eu-west-1").rows
    assert row.region == "eu-west-1"
    with pytest.raises(UsageError, match="not a region"):
        assignment_rows(index, directory, region="eu-west-1\ncredential_process = /tmp/evil")
    alice = _signed_in(store, ("demo", "alice@example.com"))
    with pytest.raises(UsageError, match="gives two assignments the name"):
        assignment_rows(alice, directory, "{permission_set}")


def test_nobody_signed_in_and_people_without_assignments_are_told(
    store: CredentialStore, directory: Directory
) -> None:
    empty = assignment_rows(store.read_index(), directory)
    assert empty.rows == () and "broker login" in empty.notes[0]
    oscar = assignment_rows(_signed_in(store, ("demo", "oscar@example.com")), directory)
    assert oscar.rows == () and oscar.notes == ("demo: oscar has no account assignments",)
    undirected = assignment_rows(_signed_in(store, ("demo", "oscar@example.com")), None)
    assert undirected.rows == () and "no directory" in undirected.notes[0]
    stranger = assignment_rows(_signed_in(store, ("demo", "eve@example.net")), directory)
    assert stranger.rows == () and "not in the directory" in stranger.notes[0]


def _config_with(tmp_path: Path, extra: str = "") -> Path:
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    with (config / "broker.toml").open("a", encoding="utf-8") as handle:
        handle.write(extra)
    return config


def test_recorded_rows_resolve_and_explicit_tables_win(
    tmp_path: Path, store: CredentialStore, directory: Directory
) -> None:
    extra = '\n[profiles."log-archive.ReadOnlyAccess"]\naccount = "111111111111"\nrole = "Mine"\n'
    config = load_config(_config_with(tmp_path, extra))
    index = _signed_in(store, ("demo", "bob@example.com"))
    store.record_assignments(assignment_rows(index, directory).rows, replace=True)

    explicit = resolve_profile(config, store, "log-archive.ReadOnlyAccess", lambda: directory)
    assert (explicit.account, explicit.role) == ("111111111111", "Mine")
    held = next(a for a in directory.assignments_of(directory.user("bob")))
    name = f"{held.account_name}.{held.permission_set}"
    profile = resolve_profile(config, store, name, lambda: directory)
    assert (profile.provider, profile.account, profile.role) == (
        "demo",
        held.account_id,
        held.role_name,
    )
    assert profile.duration == held.max_session_duration and profile.minter == "local"
    with pytest.raises(ConfigError, match=r"no profile 'nope' \(known: .*log-archive"):
        resolve_profile(config, store, "nope", lambda: directory)


def test_an_assignment_no_longer_held_is_refused_and_left_out(
    tmp_path: Path, store: CredentialStore, directory: Directory
) -> None:
    config = load_config(_config_with(tmp_path))
    index = _signed_in(store, ("demo", "mallory@example.com"))
    [mallorys] = assignment_rows(index, directory).rows
    # A row recorded earlier for an assignment bob holds, now resolved while mallory is
    # signed in: the directory says no.
    bob = assignment_rows(_signed_in(store, ("demo", "bob@example.com")), directory).rows[0]
    _signed_in(store, ("demo", "mallory@example.com"))
    store.record_assignments([mallorys, bob], replace=True)
    with pytest.raises(ConfigError, match=r"mallory no longer holds .*--prune"):
        resolve_profile(config, store, bob.profile, lambda: directory)
    dropped: list[str] = []
    profiles = all_profiles(config, store, lambda: directory, on_dropped=dropped.append)
    assert set(profiles) == {mallorys.profile}
    assert len(dropped) == 1 and bob.profile in dropped[0]


def test_record_assignments_merges_unless_replacing(store: CredentialStore) -> None:
    def row(name: str) -> AssignmentRow:
        return AssignmentRow(name, "demo", "111111111111", "acct", "PS", "R", 3600)

    store.record_assignments([row("a"), row("b")], replace=True)
    store.record_assignments([row("c")], replace=False)
    assert set(store.read_index().assignments) == {"a", "b", "c"}
    store.record_assignments([row("c")], replace=True)
    assert set(store.read_index().assignments) == {"c"}


def test_an_index_from_before_assignment_rows_still_reads(store: CredentialStore) -> None:
    store.record_assignments([], replace=True)
    data = json.loads(store.index.path.read_text())
    del data["assignments"]
    store.index.path.write_text(json.dumps(data))
    assert store.read_index().assignments == {}


def test_profile_name_is_the_rule_configure_and_the_tui_share() -> None:
    values = {
        "account_name": "payments-prod",
        "account_id": "444444444444",
        "permission_set": "AdministratorAccess",
        "role_name": "AWSReservedSSO_AdministratorAccess_0123456789abcdef",
        "provider": "demo",
        "user": "alice",
    }
    assert profile_name(DEFAULT_TEMPLATE, **values) == "payments-prod.AdministratorAccess"
    assert profile_name("{user}@{account_id}", **values) == "alice@444444444444"
    with pytest.raises(UsageError, match="placeholders"):
        profile_name("{nope}", **values)
    with pytest.raises(UsageError, match="not a profile name"):
        profile_name("{account_name} {permission_set}", **values)
