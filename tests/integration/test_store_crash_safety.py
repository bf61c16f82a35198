"""The store survives ``kill -9`` at every step of every write, through real processes and the
real gnome-keyring: each ``broker`` process below kills itself (``BROKER_TEST_CRASH_AT``) at one
named point inside the store, and the next process must repair what it left, serve only what the
index accounts for, and ``logout`` must leave nothing of the data directory in the keyring."""

from __future__ import annotations

import json
import signal
from contextlib import closing
from pathlib import Path

import pytest

from broker.keyring_gate.home_id import home_id, scoped_key
from broker.store.crash_points import ENV, POINTS, SIGNAL_ENV
from broker.store.credential_store import CredentialStore
from broker.store.entries import decode_credentials
from broker.store.intents import INTENTS_DIR
from broker.store.keyring_store import KeyringStore
from tests.integration.test_aws_cli_e2e import (
    ALICE_PROFILE,
    _age,
    _mints,
    _sign_in_and_configure,
)

pytestmark = [pytest.mark.keyring, pytest.mark.integration]

WRITE_POINTS = ("intent-locked", "intent-written", "secret-written", "row-written")
KILLED = -signal.SIGKILL


def _scope_entries(home: Path) -> dict[str, str]:
    """Every keyring item of this data directory, read with secretstorage (not our code)."""
    import secretstorage

    prefix = scoped_key(home_id(home), "")
    found: dict[str, str] = {}
    with closing(secretstorage.dbus_init()) as connection:
        for item in secretstorage.Collection(connection).search_items({"service": "access-broker"}):
            name = item.get_attributes()["username"]
            if name.startswith(prefix):
                found[name[len(prefix) :]] = bytes(item.get_secret()).decode()
    return found


def _index(home: Path) -> dict:
    return json.loads((home / "store" / "index.json").read_text())


def _intents(home: Path) -> list[str]:
    folder = home / INTENTS_DIR
    return sorted(p.name for p in folder.glob("*.json")) if folder.exists() else []


def _crash(run_broker, point: str, *args: str, interrupt: bool = False):
    """Run ``broker ARGS`` killed at ``point`` (``SIGKILL``, or ``SIGINT`` as from Ctrl-C)."""
    if interrupt:
        result = run_broker(*args, env={ENV: point, SIGNAL_ENV: "INT"})
        assert result.returncode == 130, (point, result.returncode, result.stderr)
        assert result.stderr == "broker: interrupted\n"
        return result
    result = run_broker(*args, env={ENV: point})
    assert result.returncode == KILLED, (point, result.returncode, result.stderr)
    return result


def _consistent(home: Path, served_key: str) -> None:
    """The served key is the cached one, and the index row names it."""
    entries = _scope_entries(home)
    cached = decode_credentials(entries[f"profile:{ALICE_PROFILE}"])
    assert cached.access_key_id == served_key
    assert _index(home)["profiles"][ALICE_PROFILE]["access_key_id"] == served_key
    assert _intents(home) == []


def _logout_leaves_nothing(home: Path, run_broker) -> None:
    out = run_broker("logout", "--all")
    assert out.returncode == 0, out.stderr
    assert _scope_entries(home) == {}
    assert _index(home)["profiles"] == {} and _index(home)["sessions"] == {}
    after = run_broker("credential-process", "--profile", ALICE_PROFILE)
    assert after.returncode != 0 and after.stdout == ""


def test_every_crash_point_is_named_in_the_store() -> None:
    import inspect

    import broker.store.credential_store as store_module
    import broker.store.intents as intents_module
    import broker.sts.legacy_files as legacy_module

    source = "".join(inspect.getsource(m) for m in (store_module, intents_module, legacy_module))
    assert all(f'crash_point("{point}")' in source for point in POINTS)


@pytest.mark.parametrize("interrupt", [False, True], ids=["kill-9", "ctrl-c"])
@pytest.mark.parametrize("point", WRITE_POINTS)
def test_a_mint_killed_at_each_point_is_repaired_and_logout_removes_everything(
    point: str, interrupt: bool, secret_service: None, broker_home: Path, tmp_path: Path, run_broker
) -> None:
    _sign_in_and_configure(run_broker, "alice", tmp_path / "aws-config")
    first = run_broker("credential-process", "--profile", ALICE_PROFILE)
    assert first.returncode == 0, first.stderr
    old_key = json.loads(first.stdout)["AccessKeyId"]
    _age(CredentialStore(broker_home))  # due for a new mint
    _crash(run_broker, point, "credential-process", "--profile", ALICE_PROFILE, interrupt=interrupt)

    # The next process to open the store settles the write: the old pair, or the new one.
    assert run_broker("whoami").returncode == 0
    new_secret_written = point in ("secret-written", "row-written")
    settled = decode_credentials(_scope_entries(broker_home)[f"profile:{ALICE_PROFILE}"])
    assert (settled.access_key_id == old_key) is not new_secret_written
    _consistent(broker_home, settled.access_key_id)

    served = run_broker("credential-process", "--profile", ALICE_PROFILE)
    assert served.returncode == 0, served.stderr
    key = json.loads(served.stdout)["AccessKeyId"]
    assert key != old_key
    _consistent(broker_home, key)
    # Killed once the new secret was written, the write is finished, not minted again.
    mints = _mints(run_broker, "AWSReservedSSO_AdministratorAccess_")
    assert len(mints) == (2 if new_secret_written else 3)
    _logout_leaves_nothing(broker_home, run_broker)


@pytest.mark.parametrize("point", WRITE_POINTS)
def test_a_login_killed_at_each_point_leaves_nothing_logout_cannot_remove(
    point: str, secret_service: None, broker_home: Path, tmp_path: Path, run_broker
) -> None:
    _sign_in_and_configure(run_broker, "alice", tmp_path / "aws-config")
    cached = run_broker("credential-process", "--profile", ALICE_PROFILE)
    assert cached.returncode == 0, cached.stderr
    _crash(run_broker, point, "login", "demo", "--user-hint", "alice")

    who = run_broker("whoami", "--json")
    assert who.returncode == 0, who.stderr  # the old sign-in or the new one, whole
    sessions = _index(broker_home)["sessions"]
    assert set(sessions) == {"demo"} and _intents(broker_home) == []
    assert "session:demo" in _scope_entries(broker_home)
    again = run_broker("credential-process", "--profile", ALICE_PROFILE)
    assert again.returncode == 0, again.stderr
    _logout_leaves_nothing(broker_home, run_broker)


def test_a_crash_while_repairing_is_repaired_by_the_next_process(
    secret_service: None, broker_home: Path, tmp_path: Path, run_broker
) -> None:
    _sign_in_and_configure(run_broker, "alice", tmp_path / "aws-config")
    _crash(run_broker, "secret-written", "credential-process", "--profile", ALICE_PROFILE)
    _crash(run_broker, "recovered-one", "credential-process", "--profile", ALICE_PROFILE)
    served = run_broker("credential-process", "--profile", ALICE_PROFILE)
    assert served.returncode == 0, served.stderr
    _consistent(broker_home, json.loads(served.stdout)["AccessKeyId"])


def test_a_logout_killed_midway_is_finished_by_the_next_logout(
    secret_service: None, broker_home: Path, tmp_path: Path, run_broker
) -> None:
    _sign_in_and_configure(run_broker, "alice", tmp_path / "aws-config")
    assert run_broker("credential-process", "--profile", ALICE_PROFILE).returncode == 0
    _crash(run_broker, "secret-deleted", "logout", "demo")
    _logout_leaves_nothing(broker_home, run_broker)


def test_logout_removes_entries_no_index_row_accounts_for(
    secret_service: None, broker_home: Path, tmp_path: Path, run_broker
) -> None:
    _sign_in_and_configure(run_broker, "alice", tmp_path / "aws-config")
    keyring = KeyringStore()
    home = home_id(broker_home)
    # As an earlier version's crash left them: entries with neither row nor intent.
    keyring.set(scoped_key(home, "profile:ghost"), "broker-v1 4102444800\n{}")
    keyring.set(scoped_key(home, "session:gone"), '{"v": 1}')
    out = run_broker("logout", "demo")
    assert out.returncode == 0, out.stderr
    assert _scope_entries(broker_home) == {}
