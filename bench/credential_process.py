"""Benchmark: ``broker credential-process`` on a cache hit, as whole processes, beside the
interpreter's own start (``python -c pass``), through a real Secret Service.

    python bench/credential_process.py [--runs 30]

Starts a private D-Bus session with an unlocked gnome-keyring (``scripts/with-keyring``) when
none is running, seeds one profile in a throwaway data directory, then alternates the two
commands so machine noise hits both alike. Prints medians, the ratio (target <= 4x) and the
peak RSS of the broker process (target <= 40 MB).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _under_keyring() -> None:
    if os.environ.get("BENCH_UNDER_KEYRING") == "1":
        return
    env = {**os.environ, "BENCH_UNDER_KEYRING": "1"}
    for name in ("DBUS_SESSION_BUS_ADDRESS", "GNOME_KEYRING_CONTROL"):
        env.pop(name, None)
    command = ["dbus-run-session", "--", str(REPO / "scripts" / "with-keyring"), sys.executable]
    raise SystemExit(subprocess.call([*command, *sys.argv], env=env, stderr=sys.stderr))


def _timed(argv: list[str], env: dict[str, str]) -> tuple[float, bytes]:
    """Wall time of one whole process, and its stdout."""
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"benchmark command failed: {proc.stderr.decode().strip()}")
    return elapsed, proc.stdout


def _peak_rss_kib(argv: list[str], env: dict[str, str]) -> int:
    """Peak RSS of ``argv`` after its exec, measured by GNU time (a forked child's ru_maxrss
    would count the benchmark's own pages copied before exec)."""
    gnu_time = "/usr/bin/time"
    if not os.path.exists(gnu_time):
        return 0
    proc = subprocess.run(
        [gnu_time, "-f", "%M", *argv], env=env, capture_output=True, text=True, check=True
    )
    return int(proc.stderr.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    _under_keyring()

    from broker.minters.base import Credentials
    from broker.store.credential_store import CredentialStore

    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "BROKER_HOME": home, "PYTHONPATH": str(REPO)}
        os.chmod(home, 0o700)
        store = CredentialStore(Path(home))
        store.save_credentials(
            "bench",
            provider="corp",
            account="111122223333",
            role="Developer",
            credentials=Credentials(
                access_key_id="BKIABENCH00000000001",
                secret_access_key="b" * 40,
                session_token="bench-token",
                expiration=datetime.now(UTC) + timedelta(hours=2),
            ),
            stamp=store.revocation_stamp(),  # as a mint records it: the fast path serves it
        )
        broker = [sys.executable, "-m", "broker", "credential-process", "--profile", "bench"]
        baseline = [sys.executable, "-c", "pass"]
        _timed(broker, env)  # warm the page cache once
        broker_times: list[float] = []
        base_times: list[float] = []
        for _ in range(max(20, args.runs)):
            seconds, _out = _timed(baseline, env)
            base_times.append(seconds)
            seconds, out = _timed(broker, env)
            assert b'"AccessKeyId":"BKIABENCH00000000001"' in out, out
            broker_times.append(seconds)
        peak = max(_peak_rss_kib(broker, env) for _ in range(3))
        base_peak = _peak_rss_kib(baseline, env)
        store.forget_profile("bench")
    b = statistics.median(broker_times) * 1000
    p = statistics.median(base_times) * 1000
    print(f"runs                      {len(broker_times)}")
    print(f"python -c pass            median {p:6.1f} ms")
    print(f"credential-process (hit)  median {b:6.1f} ms")
    print(f"ratio                     {b / p:6.2f}x   (target <= 4x)")
    print(
        f"peak RSS                  {peak / 1024:6.1f} MB (target <= 40 MB; python -c pass: "
        f"{base_peak / 1024:.1f} MB)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
