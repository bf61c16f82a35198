"""``AuditLog(sync_interval=...)`` (``broker serve --audit-sync interval``): each event is written
before ``append`` returns, the fsync and the head follow on a background thread."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from broker.audit import AuditLog, cloudtrail_event
from broker.errors import AuditError

REPO = Path(__file__).resolve().parents[3]


def event(user: str) -> dict:
    return cloudtrail_event(
        "GetCallerIdentity", user_identity={"type": "IAMUser", "userName": user}, request_id="r"
    )


def head_events(log: AuditLog) -> int:
    return int(json.loads(log.head_path.read_bytes())["events"])


def test_events_are_written_at_once_and_the_head_follows_the_sync(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit" / "audit.jsonl", sync_interval=30.0)  # no sync in this test
    for i in range(5):
        record = log.append(event(f"user{i}"))
        assert record["eventSequence"] == i + 1
        assert len(log.path.read_bytes().splitlines()) == i + 1  # written before append returned
    assert head_events(log) == 0  # the head only names fsynced events
    assert log.verify().events == 5  # a lagging head verifies
    log.flush()
    assert head_events(log) == 5
    assert log.verify().events == 5
    lines = log.path.read_bytes().splitlines(keepends=True)
    log.path.write_bytes(b"".join(lines[:3]))  # cutting synced events off is caught
    with pytest.raises(AuditError, match="truncated"):
        log.verify()


def test_the_background_sync_moves_the_head_within_the_interval(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl", sync_interval=0.05)
    for i in range(3):
        log.append(event(f"user{i}"))
    deadline = time.monotonic() + 10
    while head_events(log) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert head_events(log) == 3


def test_a_head_is_never_moved_back(tmp_path: Path) -> None:
    """A flush that read an older tail (another writer went on) leaves a newer head alone."""
    path = tmp_path / "audit.jsonl"
    per_batch, interval = AuditLog(path), AuditLog(path, sync_interval=30.0)
    interval.append(event("a"))
    per_batch.append(event("b"))  # fsync + head at 2
    assert head_events(per_batch) == 2
    interval.flush()
    assert head_events(interval) == 2 and interval.verify().events == 2


def test_a_failed_sync_refuses_every_later_append(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl", sync_interval=0.05)
    log.append(event("a"))
    log.path.unlink()
    log.path.mkdir()  # the next sync cannot open the log as a file
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            log.append(event("b"))
        except AuditError as exc:
            assert "refused" in str(exc) or "audit log" in str(exc)
            break
        time.sleep(0.05)
    else:
        pytest.fail("appends went on after the log could no longer be synced")


_WRITER = """
import sys
from broker.audit import AuditLog, cloudtrail_event
log = AuditLog(__import__("pathlib").Path(sys.argv[1]), sync_interval=3600.0)
for i in range(100000):
    record = log.append(cloudtrail_event(
        "GetCallerIdentity", user_identity={"type": "IAMUser", "userName": "u"}, request_id="r"))
    print(record["eventSequence"], flush=True)
"""


def test_kill_9_loses_no_answered_event(tmp_path: Path) -> None:
    """The page cache keeps what ``write`` returned: a killed process never synced, yet every
    event it answered for is in the log, and the log verifies."""
    path = tmp_path / "audit.jsonl"
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert writer.stdout is not None
    answered = 0
    try:
        for line in writer.stdout:
            answered = int(line)
            if answered >= 300:
                break
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
        writer.stdout.close()
    result = AuditLog(path).verify()
    assert answered >= 300 and result.events >= answered
