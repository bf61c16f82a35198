"""The refresher's status record: written private and atomic, read as running / stopped / never."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from broker.client.refresher_status import (
    RefresherState,
    RefresherStatus,
    read_status,
    status_path,
    write_status,
)
from broker.errors import StoreError

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _status(**changes: object) -> RefresherStatus:
    base = RefresherStatus(
        pid=4242,
        started=NOW - timedelta(hours=1),
        last_round=NOW - timedelta(seconds=10),
        next_round=NOW + timedelta(seconds=50),
        refreshed=("dev",),
        last_error=None,
    )
    return RefresherStatus(**{**vars(base), **changes})  # type: ignore[arg-type]


def test_never_started_without_a_record(tmp_path: Path) -> None:
    view = read_status(tmp_path, NOW, alive=lambda _pid: True)
    assert view.state is RefresherState.NEVER and view.status is None


def test_round_trip_private_and_running_while_the_pid_lives(tmp_path: Path) -> None:
    write_status(tmp_path, _status())
    assert status_path(tmp_path).stat().st_mode & 0o777 == 0o600
    view = read_status(tmp_path, NOW, alive=lambda pid: pid == 4242)
    assert view.state is RefresherState.RUNNING
    assert view.status == _status()


def test_stopped_when_the_pid_is_gone(tmp_path: Path) -> None:
    write_status(tmp_path, _status())
    view = read_status(tmp_path, NOW, alive=lambda _pid: False)
    assert view.state is RefresherState.STOPPED and "4242" in view.reason


@pytest.mark.parametrize(
    ("late", "state"), [(109, RefresherState.RUNNING), (111, RefresherState.STOPPED)]
)
def test_stale_beyond_two_intervals_is_stopped(
    tmp_path: Path, late: int, state: RefresherState
) -> None:
    # interval 60 s: the last round at NOW-10 s is stale after NOW-10+120 = NOW+110 s
    write_status(tmp_path, _status())
    view = read_status(tmp_path, NOW + timedelta(seconds=late), alive=lambda _pid: True)
    assert view.state is state


def test_a_clean_end_reads_stopped_even_if_the_pid_was_reused(tmp_path: Path) -> None:
    write_status(tmp_path, _status(ended=NOW))
    assert read_status(tmp_path, NOW, alive=lambda _pid: True).state is RefresherState.STOPPED


def test_the_error_is_kept_to_one_short_line(tmp_path: Path) -> None:
    write_status(tmp_path, _status(last_error="dev: failed\n  Traceback line\n" + "x" * 500))
    status = read_status(tmp_path, NOW, alive=lambda _pid: True).status
    assert status is not None and status.last_error is not None
    assert "\n" not in status.last_error and len(status.last_error) <= 200
    assert status.last_error.startswith("dev: failed Traceback line")


def test_a_record_others_can_read_is_refused(tmp_path: Path) -> None:
    write_status(tmp_path, _status())
    os.chmod(status_path(tmp_path), 0o644)
    with pytest.raises(StoreError, match="chmod 600"):
        read_status(tmp_path, NOW)


def test_a_damaged_record_says_to_remove_it(tmp_path: Path) -> None:
    write_status(tmp_path, _status())
    status_path(tmp_path).write_text("{not json")
    with pytest.raises(StoreError, match="damaged; remove it"):
        read_status(tmp_path, NOW)


def test_the_sessions_line_words_each_state(tmp_path: Path) -> None:
    from broker.client.refresher_status import StatusView
    from broker.tui.sessions_view import refresher_line

    running = StatusView(RefresherState.RUNNING, _status(), "pid 4242")
    assert refresher_line(running, NOW) == (
        "✓ Refresher running (pid 4242) · next round in 0m 50s · refreshed dev"
    )
    in_round = StatusView(RefresherState.RUNNING, _status(next_round=None), "pid 4242")
    assert "refreshing now" in refresher_line(in_round, NOW, ascii_only=True)
    failing = StatusView(RefresherState.RUNNING, _status(last_error="dev: IdP down"), "pid 4242")
    assert refresher_line(failing, NOW).startswith("⚠ Refresher running")
    assert refresher_line(failing, NOW).endswith("· last error: dev: IdP down")
    stopped = StatusView(RefresherState.STOPPED, _status(), "pid 4242 is gone")
    assert refresher_line(stopped, NOW).startswith("✗ Refresher stopped (pid 4242 is gone)")
    never = StatusView(RefresherState.NEVER, None, "")
    assert "broker refresh --watch" in refresher_line(never, NOW)
    assert refresher_line(None, NOW, problem="damaged").endswith("unreadable: damaged")
