"""The front end's state handle: opened once on first need (also when threads race for it),
never when nothing asks, refused after close; the real embedded state behind it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from broker.sts.state import StsState
from broker.sts.state_handle import StateHandle, open_for_one_process


def _counting(opens: list[Path]):  # type: ignore[no-untyped-def]
    def opener(database_url: str | None, data_dir: Path) -> StsState:
        opens.append(data_dir)
        return open_for_one_process(database_url, data_dir)

    return opener


def test_nothing_is_opened_until_asked_and_closing_then_is_harmless(tmp_path: Path) -> None:
    opens: list[Path] = []
    handle = StateHandle(tmp_path, None, _counting(opens))
    handle.close()
    handle.close()
    assert opens == [] and not (tmp_path / "broker.db").exists()


def test_threads_asking_at_once_share_one_opened_state(tmp_path: Path) -> None:
    opens: list[Path] = []
    handle = StateHandle(tmp_path, None, _counting(opens))
    start = threading.Barrier(8)
    seen: list[StsState] = []

    def ask() -> None:
        start.wait()
        seen.append(handle.state())

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert opens == [tmp_path]
    assert len({id(state) for state in seen}) == 1
    assert (tmp_path / "broker.db").is_file()  # the real embedded state
    assert handle.opened
    handle.close()
    assert not handle.opened
    with pytest.raises(RuntimeError, match="closed"):
        handle.state()
    assert opens == [tmp_path]


def _is_closed(state: StsState) -> bool:
    """Whether this process holds the embedded database file of ``state`` open no more (what
    a closed state leaves behind: no connection, so nothing to go stale)."""
    import os

    database = Path(state.shared.database.where).resolve()
    held = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            held += Path(os.readlink(f"/proc/self/fd/{fd}")) == database
        except OSError:
            continue
    return held == 0


def test_a_round_closes_what_it_opened_and_the_next_round_opens_it_afresh(
    tmp_path: Path,
) -> None:
    opens: list[Path] = []
    handle = StateHandle(tmp_path, None, _counting(opens))
    with handle.round():
        pass
    assert opens == [] and handle.generation == 0  # a round that needed nothing opened nothing

    with handle.round():
        first = handle.state()
        assert handle.state() is first and not _is_closed(first)
    assert not handle.opened and _is_closed(first)
    assert handle.generation == 1

    with handle.round():
        second = handle.state()
    assert second is not first and _is_closed(second)
    assert opens == [tmp_path, tmp_path] and handle.generation == 2
    handle.close()
    with pytest.raises(RuntimeError, match="closed"), handle.round():
        pass


def test_the_state_stays_open_until_the_last_of_overlapping_rounds_ends(tmp_path: Path) -> None:
    handle = StateHandle(tmp_path, None)
    entered = threading.Event()
    leave = threading.Event()
    seen: list[StsState] = []

    def served_request() -> None:
        with handle.round():
            seen.append(handle.state())
            entered.set()
            assert leave.wait(30)

    other = threading.Thread(target=served_request)
    other.start()
    assert entered.wait(30)
    with handle.round():
        assert handle.state() is seen[0]
    assert handle.opened and not _is_closed(seen[0])  # the other request still uses it
    leave.set()
    other.join()
    assert not handle.opened and _is_closed(seen[0]) and handle.generation == 1


def test_opening_again_after_a_round_fails_as_a_transient_outage(tmp_path: Path) -> None:
    from broker.errors import ConfigError, StateStoreUnavailableError

    down = [False]

    def opener(database_url: str | None, data_dir: Path) -> StsState:
        if down[0]:
            raise ConfigError("cannot connect to the database db.example:5432/broker: refused")
        return open_for_one_process(database_url, data_dir)

    first_open = StateHandle(tmp_path, None, opener)
    down[0] = True
    with pytest.raises(ConfigError) as refused:
        first_open.state()
    assert not isinstance(refused.value, StateStoreUnavailableError)  # never worked: config

    handle = StateHandle(tmp_path, None, opener)
    down[0] = False
    with handle.round():
        handle.state()
    down[0] = True
    with handle.round(), pytest.raises(StateStoreUnavailableError, match="cannot connect"):
        handle.state()
    down[0] = False
    with handle.round():
        assert not _is_closed(handle.state())
    handle.close()
