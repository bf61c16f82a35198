"""``broker sessions`` through the real CLI: alice signs in to the demo IdP, two profiles are
minted by the local minter, and the command lists the facts the TUI's Sessions view shows."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from broker.minters.base import Credentials
from broker.store.credential_store import CredentialStore
from broker.sts.state_handle import StateHandle
from broker.tui.sessions_data import session_rows
from tests.conftest import CONFIG, one_line

pytestmark = [pytest.mark.keyring, pytest.mark.integration]

COMMAND = f"{sys.executable} -m broker"
ADMIN = "payments-prod.AdministratorAccess"
READ = "payments-prod.ReadOnlyAccess"


@pytest.fixture
def minted(secret_service: None, broker_home: Path, tmp_path: Path, run_broker) -> None:
    login = run_broker("login", "demo", "--user-hint", "alice")
    assert login.returncode == 0, login.stderr
    configured = run_broker(
        "configure", "aws", "--file", str(tmp_path / "aws-config"), "--command-path", COMMAND
    )
    assert configured.returncode == 0, configured.stderr
    for profile in (ADMIN, READ):
        result = run_broker("exec", profile, "--", sys.executable, "-c", "pass")
        assert result.returncode == 0, result.stderr


def test_sessions_lists_what_is_cached_as_the_tui_does(
    minted: None, broker_home: Path, run_broker
) -> None:
    listed = run_broker("sessions", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [row["profile"] for row in rows] == [ADMIN, READ]
    admin = rows[0]
    assert admin["provider"] == "demo" and admin["minter"] == "local"
    assert admin["account"] == "444444444444" and admin["account_name"] == "payments-prod"
    assert admin["role"] == "AdministratorAccess" and admin["refreshable"] in (True, False)
    expiry = datetime.strptime(admin["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert timedelta(minutes=30) < expiry - datetime.now(UTC) <= timedelta(hours=4)
    assert not admin["expired"]
    # The TUI's Sessions view reads the same core: the same facts, row for row.
    with StateHandle(broker_home, None) as state:
        tui = session_rows(CONFIG, state)
    assert [(r.profile, r.account_id, r.account_name, r.role_name, r.refreshable) for r in tui] == [
        (r["profile"], r["account"], r["account_name"], r["role"], r["refreshable"]) for r in rows
    ]
    assert [r.expiration.strftime("%Y-%m-%dT%H:%M:%SZ") for r in tui] == [
        r["expiration"] for r in rows
    ]
    table = run_broker("sessions")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["PROFILE", "ACCOUNT", "ROLE", "PROVIDER", "EXPIRES", "MINTER"]
    assert lines[1].startswith(ADMIN) and "payments-prod (444444444444)" in lines[1]
    assert lines[1].split()[-1] == "local"
    for secret in _secrets(broker_home):
        assert secret not in listed.stdout + table.stdout


def _secrets(home: Path) -> list[str]:
    store = CredentialStore(home)
    found = [store.credentials(name) for name in (ADMIN, READ)]
    return [part for c in found if c for part in (c.secret_access_key, c.session_token)]


def test_sessions_clear_one_then_all(minted: None, broker_home: Path, run_broker) -> None:
    cleared = run_broker("sessions", "clear", ADMIN)
    assert cleared.returncode == 0, cleared.stderr
    assert f"forgot the cached credentials of {ADMIN}" in cleared.stderr
    assert CredentialStore(broker_home).credentials(ADMIN) is None
    assert [r["profile"] for r in json.loads(run_broker("sessions", "--json").stdout)] == [READ]
    unknown = run_broker("sessions", "clear", "nope")
    assert unknown.returncode == 2 and unknown.stdout == ""
    assert one_line(unknown.stderr) == (
        f"broker: error: nothing is cached for profile 'nope' (cached: {READ})"
    )
    everything = run_broker("sessions", "clear")
    assert everything.returncode == 0, everything.stderr
    assert json.loads(run_broker("sessions", "--json").stdout) == []
    assert CredentialStore(broker_home).credentials(READ) is None
    empty = run_broker("sessions")
    assert empty.returncode == 0 and empty.stdout.startswith("nothing cached")


def test_an_entry_cached_before_minters_were_recorded_lists_without_one(
    secret_service: None, broker_home: Path, run_broker
) -> None:
    CredentialStore(broker_home).save_credentials(
        "dev",
        provider="corp",
        account="111122223333",
        role="Developer",
        credentials=Credentials(
            "BKIASESSIONS0000001", "s" * 40, "t", datetime.now(UTC) + timedelta(hours=1)
        ),
    )
    rows = json.loads(run_broker("sessions", "--json").stdout)
    assert [(r["profile"], r["minter"], r["account_name"]) for r in rows] == [
        ("dev", None, "111122223333")
    ]
