"""The Query API's decision pool: every awaiting coroutine gets its own call's result or error,
on its own loop, with calls overlapping on several threads."""

from __future__ import annotations

import asyncio
import threading

import pytest

from broker.server.decision_pool import DecisionPool


def test_each_caller_gets_its_own_result_from_a_thread_off_the_loop() -> None:
    pool = DecisionPool(threads=3)

    async def main() -> list[tuple[int, bool]]:
        loop_thread = threading.get_ident()

        def call(n: int) -> tuple[int, bool]:
            return n * n, threading.get_ident() != loop_thread

        return await asyncio.gather(*(pool.run(lambda n=n: call(n)) for n in range(200)))

    assert asyncio.run(main()) == [(n * n, True) for n in range(200)]


def test_an_error_reaches_its_caller_and_no_other() -> None:
    pool = DecisionPool(threads=2)

    def fails() -> int:
        raise ValueError("refused")

    async def main() -> tuple[int, str]:
        good = asyncio.ensure_future(pool.run(lambda: 7))
        with pytest.raises(ValueError, match="refused"):
            await pool.run(fails)
        return await good, "after"

    assert asyncio.run(main()) == (7, "after")


def test_calls_overlap_on_several_threads() -> None:
    """Four calls that each wait for the other three: one thread at a time would never pass
    the barrier (it times out and the calls fail)."""
    pool = DecisionPool(threads=4)
    barrier = threading.Barrier(4, timeout=10)

    async def main() -> list[int]:
        return await asyncio.gather(*(pool.run(barrier.wait) for _ in range(4)))

    assert sorted(asyncio.run(main())) == [0, 1, 2, 3]


def test_a_cancelled_waiter_does_not_disturb_the_others() -> None:
    pool = DecisionPool(threads=1)
    release = threading.Event()

    async def main() -> int:
        blocked = asyncio.ensure_future(pool.run(lambda: release.wait(10)))
        queued = asyncio.ensure_future(pool.run(lambda: 5))
        await asyncio.sleep(0)
        blocked.cancel()
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await blocked
        return await queued

    assert asyncio.run(main()) == 5


def test_results_go_back_to_the_loop_that_asked() -> None:
    pool = DecisionPool(threads=2)
    results: dict[str, list[str]] = {}

    def loop_of(name: str) -> None:
        async def main() -> list[str]:
            return await asyncio.gather(*(pool.run(lambda i=i: f"{name}-{i}") for i in range(100)))

        results[name] = asyncio.run(main())

    threads = [threading.Thread(target=loop_of, args=(name,)) for name in ("a", "b", "c")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == {name: [f"{name}-{i}" for i in range(100)] for name in ("a", "b", "c")}


def test_threads_are_started_as_needed_and_never_past_the_limit() -> None:
    pool = DecisionPool(threads=2)
    seen: set[int] = set()
    lock = threading.Lock()

    def call() -> None:
        with lock:
            seen.add(threading.get_ident())

    async def main() -> None:
        await asyncio.gather(*(pool.run(call) for _ in range(500)))

    asyncio.run(main())
    assert 1 <= len(seen) <= 2
