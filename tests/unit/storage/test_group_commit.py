"""Group commit: every caller gets its own result from a shared write, or that write's error."""

from __future__ import annotations

import threading
import time

import pytest

from broker.storage.group_commit import GroupCommit


def test_concurrent_callers_share_writes_and_get_their_own_results() -> None:
    batches: list[list[int]] = []

    def write(items: list[int]) -> list[int]:
        batches.append(list(items))
        time.sleep(0.01)  # a slow commit lets the queue build up
        return [item * 10 for item in items]

    group: GroupCommit[int, int] = GroupCommit(write)
    results: dict[int, int] = {}

    def call(n: int) -> None:
        results[n] = group.submit(n)

    threads = [threading.Thread(target=call, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results == {n: n * 10 for n in range(40)}
    assert sorted(item for batch in batches for item in batch) == list(range(40))
    assert len(batches) < 40


def test_a_failed_write_fails_every_caller_in_its_batch() -> None:
    def write(items: list[str]) -> list[str]:
        raise OSError("disk full")

    group: GroupCommit[str, str] = GroupCommit(write)
    with pytest.raises(OSError, match="disk full"):
        group.submit("event")
    # the next caller is not stuck behind the failed batch
    with pytest.raises(OSError):
        group.submit("next")
