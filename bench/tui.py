"""TUI benchmark: launch-to-first-portal-paint and filter keystroke-to-repaint latency.

Usage: ``python bench/tui.py [--launches N] [--roles N]``

1. Launch: the real ``python -m broker`` in a pseudo-terminal (100×30) on the demo config, timed
   from spawn until the portal's title (``Accounts(``) is painted, median of N (≥ 10) runs.
   Baseline in the same run, interleaved with the app's runs: a whole process that only imports
   ``textual.app`` (the floor any Textual app pays), and ``python -c pass``. Target: at most
   1.5× the ``import textual.app`` floor.
2. Filter: the app in-process (headless, 100×30) holding N roles (default 10,000 = 1,000
   accounts × 10); each keystroke of a filter is timed from the key press until the screen has
   been repainted (Pilot waits for the refresh), median and p95. Baseline: the same keystrokes
   with 100 roles. Target: p95 under 50 ms. The pure filter (no UI) is timed too. The app's
   one-off start-up reads finish before the first keystroke.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import os
import pty
import select
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

from compiled_sources import compile_sources

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _env(home: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        BROKER_HOME=home,
        BROKER_CONFIG=str(ROOT / "config"),
        PYTHONPATH=str(ROOT),
        TERM="xterm-256color",
        COLUMNS="100",
        LINES="30",
    )
    return env


def _spawn_until(argv: list[str], env: dict[str, str], marker: bytes | None) -> float:
    """Seconds from spawn until ``marker`` appears on the terminal (or the process exits)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT)
    os.close(slave)
    seen = b""
    elapsed = None
    deadline = start + 30
    try:
        while time.perf_counter() < deadline:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed the terminal: it has exited
                    chunk = b""
                    proc.wait(timeout=10)
                seen += chunk
                if marker is not None and marker in seen:
                    elapsed = time.perf_counter() - start
                    break
            if proc.poll() is not None and marker is None:
                elapsed = time.perf_counter() - start
                break
        if elapsed is None:
            raise SystemExit(f"{argv}: no {marker!r} within 30 s; output tail: {seen[-400:]!r}")
        if marker is not None:
            os.write(master, b"\x11")  # ctrl+q
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return elapsed


def bench_launch(runs: int) -> None:
    home = tempfile.mkdtemp(prefix="broker-bench-")
    os.chmod(home, 0o700)
    (Path(home) / "tui-state.json").write_text('{"welcome_seen": true}')
    env = _env(home)
    py = sys.executable
    try:
        _spawn_until([py, "-m", "broker"], env, b"Accounts(")  # warm the file cache
        app: list[float] = []
        floor: list[float] = []
        bare: list[float] = []
        for _ in range(runs):  # interleaved, so a change in machine load hits all three alike
            app.append(_spawn_until([py, "-m", "broker"], env, b"Accounts("))
            floor.append(_spawn_until([py, "-c", "import textual.app"], env, None))
            bare.append(_spawn_until([py, "-c", "pass"], env, None))
    finally:
        shutil.rmtree(home, ignore_errors=True)
    m_app, m_floor, m_bare = (statistics.median(x) for x in (app, floor, bare))
    print(f"launch → first portal paint   median {m_app * 1000:7.1f} ms  (n={runs})")
    print(
        f"  baseline: import textual.app median {m_floor * 1000:7.1f} ms"
        f"  ratio {m_app / m_floor:4.2f}×  (target ≤ 1.50×)"
    )
    print(
        f"  baseline: python -c pass     median {m_bare * 1000:7.1f} ms"
        f"  ratio {m_app / m_bare:4.2f}×"
    )


def _roles(count: int) -> list:
    from broker.tui.model import PortalRole

    accounts = max(1, count // 10)
    return [
        PortalRole(
            f"{100000000000 + a:012d}",
            f"{['payments', 'data', 'ml', 'web', 'core'][a % 5]}-{a:04d}",
            f"Role{r}",
            f"PermissionSet{r}",
            email=f"aws+{a}@example.com",
            tags={"env": ["prod", "dev", "test"][a % 3]},
        )
        for a in range(accounts)
        for r in range(count // accounts)
    ]


async def _keystrokes(count: int, text: str) -> tuple[list[float], list[float]]:
    """Per keystroke: (key press → the list repainted with its result, Pilot's press + settle)."""
    from broker.tui.app import BrokerApp
    from broker.tui.options import TuiOptions
    from broker.tui.screens.portal import PortalScreen
    from broker.tui.services import Services
    from broker.tui.state import TuiState, save_state
    from providers.base import Claims, SignInResult

    home = Path(tempfile.mkdtemp(prefix="broker-bench-"))
    os.environ["BROKER_HOME"] = str(home)
    os.environ["BROKER_CONFIG"] = str(ROOT / "config")
    save_state(home, TuiState(welcome_seen=True))
    from broker.tui.widgets.role_list import RoleList

    # The keystroke's own repaint: the list's bottom line painted for the first time with the
    # rows that keystroke produced (``shown`` is a new object per filter). A later repaint (the
    # 1 s countdown timer, the cursor blink) is not the keystroke's and must not count.
    painted: dict[str, object] = {"before": None, "at": None}
    render_line = RoleList.render_line

    def timed(self: RoleList, y: int) -> object:
        strip = render_line(self, y)
        if (
            painted["at"] is None
            and self.shown is not painted["before"]
            and y == self.size.height - 1
        ):
            painted["at"] = time.perf_counter()
        return strip

    RoleList.render_line = timed  # type: ignore[method-assign]
    app = BrokerApp(Services(), TuiOptions())
    times: list[float] = []
    paints: list[float] = []
    from datetime import UTC, datetime

    try:
        async with app.run_test(size=(100, 30)) as pilot:
            claims = Claims(
                provider="demo", issuer="bench", subject="alice", email="alice@example.com"
            )
            app.signed_in("demo", SignInResult(claims=claims, expires_at=datetime.now(UTC)))
            screen = app.screen
            assert isinstance(screen, PortalScreen)
            screen.set_roles(_roles(count))
            await pilot.press("slash")
            await pilot.pause()
            # The one-off start-up reads (store index, configuration check) finish first: this
            # measures typing, not the first second after launch.
            await app.workers.wait_for_complete()
            for _round in range(3):
                keys = [("space" if k == " " else k) for k in text] + ["backspace"] * len(text)
                for key in keys:
                    role_list = screen.query_one(RoleList)
                    painted.update(before=role_list.shown, at=None)
                    start = time.perf_counter()
                    await pilot.press(key)
                    await pilot.pause()
                    times.append(time.perf_counter() - start)
                    at = painted["at"]
                    if not isinstance(at, float):
                        raise SystemExit(f"key {key!r}: the list was not repainted")
                    paints.append(at - start)
    finally:
        RoleList.render_line = render_line  # type: ignore[method-assign]
        shutil.rmtree(home, ignore_errors=True)
    return paints, times


def bench_filter(count: int) -> None:
    from broker.tui.portal_filter import RoleFilter, parse_query

    text = "pay 00 prod"
    big, big_pilot = asyncio.run(_keystrokes(count, text))
    small, small_pilot = asyncio.run(_keystrokes(100, text))
    m_big, m_small = statistics.median(big), statistics.median(small)
    p95 = statistics.quantiles(big, n=20)[-1]
    p95_small = statistics.quantiles(small, n=20)[-1]
    print(
        f"filter keystroke → repaint     median {m_big * 1000:7.1f} ms  p95 {p95 * 1000:6.1f} ms"
        f"  ({count:,} roles, {len(big)} keys, target p95 < 50 ms)"
    )
    print(
        f"  baseline: 100 roles         median {m_small * 1000:7.1f} ms"
        f"  p95 {p95_small * 1000:6.1f} ms"
        f"  ratio {m_big / m_small:4.2f}× median, {p95 / p95_small:4.2f}× p95"
    )
    print(
        f"  Pilot press+settle (incl. its idle waits): {statistics.median(big_pilot) * 1000:.1f} ms"
        f" with {count:,} roles, {statistics.median(small_pilot) * 1000:.1f} ms with 100"
    )
    index = RoleFilter(_roles(count))
    pure = []
    for end in range(1, len(text) + 1):
        query = parse_query(text[:end])
        start = time.perf_counter()
        index.apply(query)
        pure.append(time.perf_counter() - start)
    print(f"  pure filter (no UI)         median {statistics.median(pure) * 1000:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--launches", type=int, default=10)
    parser.add_argument("--roles", type=int, default=10_000)
    args = parser.parse_args()
    if args.launches < 10:
        parser.error("--launches must be at least 10 (a median of fewer is noise)")
    compile_sources()  # as pip does at install: see bench/compiled_sources.py
    bench_launch(args.launches)
    bench_filter(args.roles)


if __name__ == "__main__":
    main()
