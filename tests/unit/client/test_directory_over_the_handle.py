"""Below the front ends the directory is read over the front end's state, never the environment.

Each test sets ``$BROKER_DATABASE_URL`` to a database no broker can open, then gives the code a
state handle for the data directory's own SQLite: the answer must come from the handle (and
open it), so a module that still looked the database up in the environment fails here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from broker.client.assertion_roles import account_names
from broker.client.assignment_profiles import state_directory
from broker.client.sessions import cached_sessions
from broker.config import load_config
from broker.store.index import IndexFile, ProfileRow
from broker.sts.state_handle import StateHandle
from tests.conftest import CONFIG

ACCOUNT = "444444444444"  # payments-prod in the shipped directory


@pytest.fixture
def state(broker_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StateHandle]:
    monkeypatch.setenv("BROKER_DATABASE_URL", "nosuch://not-this-one")
    handle = StateHandle(broker_home, None)
    yield handle
    handle.close()


def test_account_names_come_from_the_handles_state(state: StateHandle) -> None:
    names = account_names(load_config(CONFIG), state)
    assert names[ACCOUNT] == "payments-prod"
    assert state.opened


def test_the_directory_loader_reads_over_the_handles_state(state: StateHandle) -> None:
    load = state_directory(load_config(CONFIG), state)
    assert not state.opened  # nothing is loaded until a check asks
    directory = load()
    try:
        assert {account.id for account in directory.accounts()} >= {ACCOUNT}
    finally:
        directory.close()
    assert state.opened  # closing the directory leaves the front end's state open
    assert account_names(load_config(CONFIG), state)[ACCOUNT] == "payments-prod"


def test_cached_sessions_name_accounts_over_the_handles_state(
    state: StateHandle, broker_home: Path
) -> None:
    expires = datetime(2026, 1, 2, 10, 0, tzinfo=UTC)
    row = ProfileRow("dev", "demo", ACCOUNT, "Developer", expires, "ABKEXAMPLE0000000001")
    IndexFile(broker_home / "store").update(lambda index: replace(index, profiles={"dev": row}))
    [cached] = cached_sessions(CONFIG, state)
    assert (cached.profile, cached.account_id, cached.account_name) == (
        "dev",
        ACCOUNT,
        "payments-prod",
    )


def test_an_empty_store_lists_without_opening_the_state(state: StateHandle) -> None:
    assert cached_sessions(CONFIG, state) == []
    assert not state.opened


def test_the_analyzer_reads_the_directory_over_the_handles_state(state: StateHandle) -> None:
    pytest.importorskip("z3")
    from broker.tui.reports_data import analyzer_targets

    targets, zone = analyzer_targets(CONFIG, state)
    assert targets and ACCOUNT in zone.accounts
    assert state.opened
