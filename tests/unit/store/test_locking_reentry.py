"""A lock this process holds is not waited for again (``flock`` is per open file: a second
descriptor of one process would wait for itself), and ``wait_or_hold`` keeps what it takes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest import REPO


def _run(code: str, locks: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), str(locks)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=REPO,
    )


def test_nested_lock_of_one_name_does_not_wait_for_itself(tmp_path: Path) -> None:
    locks = tmp_path / "locks"
    result = _run(
        """
        import sys
        from pathlib import Path
        from broker.store.locking import named_lock
        locks = Path(sys.argv[1])
        with named_lock(locks, "profile", "dev", timeout=2):
            with named_lock(locks / ".." / "locks", "profile", "dev", timeout=2):
                print("inside")
        """,
        locks,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "inside\n"


def test_wait_or_hold_keeps_the_lock_when_nothing_is_found(tmp_path: Path) -> None:
    locks = tmp_path / "locks"
    result = _run(
        """
        import fcntl, os, sys
        from pathlib import Path
        from broker.store.locking import named_lock, wait_or_hold
        locks = Path(sys.argv[1])
        assert wait_or_hold(locks, "profile", "dev", lambda: None) is None
        other = os.open(locks / "profile-dev.lock", os.O_RDWR)
        try:
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
            print("free")
        except BlockingIOError:
            print("held")
        with named_lock(locks, "profile", "dev", timeout=2):
            print("entered")
        assert wait_or_hold(locks, "profile", "ops", lambda: "found") == "found"
        fcntl.flock(os.open(locks / "profile-ops.lock", os.O_RDWR), fcntl.LOCK_EX | fcntl.LOCK_NB)
        print("ops released")
        """,
        locks,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["held", "entered", "ops", "released"]


def test_two_threads_of_one_process_still_exclude_each_other(tmp_path: Path) -> None:
    import threading
    import time

    from broker.store.locking import named_lock

    inside: list[int] = []
    overlaps: list[int] = []

    def work() -> None:
        with named_lock(tmp_path / "locks", "profile", "dev", timeout=30):
            inside.append(1)
            if len(inside) > 1:
                overlaps.append(len(inside))
            time.sleep(0.05)  # hold it while the other thread tries
            inside.pop()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert overlaps == []
