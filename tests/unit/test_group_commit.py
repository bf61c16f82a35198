"""Group commit: every caller gets its own result from a shared write, or that write's error."""

from __future__ import annotations

import threading
import time

import pytest

from broker.group_commit import GroupCommit


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


def test_awaiting_and_blocking_callers_share_batches_and_each_get_their_own_result() -> None:
    import asyncio

    committed: list[int] = []

    def write(items: list[int]) -> list[int]:
        time.sleep(0.005)
        committed.extend(items)  # "durable" only once the write returns
        return [item + 1000 for item in items]

    group: GroupCommit[int, int] = GroupCommit(write)
    blocking: dict[int, int] = {}

    def call(n: int) -> None:
        blocking[n] = group.submit(n)

    async def awaited(n: int) -> int:
        result = await group.submit_async(n)
        assert n in committed  # answered only after the write that covers it
        return result

    async def main() -> list[int]:
        return await asyncio.gather(*(awaited(n) for n in range(100, 160)))

    threads = [threading.Thread(target=call, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    results = asyncio.run(asyncio.wait_for(main(), timeout=30))
    for thread in threads:
        thread.join(timeout=30)
    assert results == [n + 1000 for n in range(100, 160)]
    assert blocking == {n: n + 1000 for n in range(20)}
    assert sorted(committed) == [*range(20), *range(100, 160)]


def test_an_awaited_write_that_fails_raises_in_every_waiter_of_its_batch() -> None:
    import asyncio

    def write(items: list[str]) -> list[str]:
        if "bad" in items:
            raise OSError("no space left")
        return items

    group: GroupCommit[str, str] = GroupCommit(write)

    async def main() -> None:
        with pytest.raises(OSError, match="no space left"):
            await group.submit_async("bad")
        assert await group.submit_async("good") == "good"  # the writer thread carries on

    asyncio.run(asyncio.wait_for(main(), timeout=30))


def test_a_cancelled_waiter_leaves_the_others_answered() -> None:
    import asyncio

    release = threading.Event()
    written: list[str] = []

    def write(items: list[str]) -> list[str]:
        release.wait(timeout=10)
        written.extend(items)
        return items

    group: GroupCommit[str, str] = GroupCommit(write)

    async def main() -> str:
        gone = asyncio.create_task(group.submit_async("gone"))
        kept = asyncio.create_task(group.submit_async("kept"))
        await asyncio.sleep(0.05)
        gone.cancel()
        release.set()
        return await kept

    assert asyncio.run(asyncio.wait_for(main(), timeout=30)) == "kept"
    assert "gone" in written  # still audited: cancelling the answer does not unwrite it
