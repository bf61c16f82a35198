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
