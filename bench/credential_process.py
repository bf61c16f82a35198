"""Benchmark: ``broker credential-process`` as whole processes, through a real Secret Service.

    python bench/credential_process.py [--runs 30] [--burst 50]

Starts a private D-Bus session with an unlocked gnome-keyring (``scripts/with-keyring``) when
none is running, and works in a throwaway data directory:

- cache hits: seeds a just-minted 15-minute credential and a 12-hour one, then alternates
  ``credential-process`` with ``python -c pass`` so machine noise hits both alike. Prints
  medians, the ratio (target <= 2x) and the peak RSS of the broker process (target <= 40 MB).
  A 15-minute credential sits inside botocore's refresh window from birth, so botocore runs
  the helper on every use: its hits must be as cheap as a 12-hour credential's.
- cold burst: signs in to an in-process test IdP, leaves an expired credential, and starts
  ``--burst`` helpers at once; prints the wall time until all have answered (target <= 5 s
  for 50 on two cores) and how many mints happened (must be 1). The mint itself is the test
  minter of ``tests.client_support`` (no delay), put in place of ``broker.minters.local`` by
  a ``sitecustomize``, so the figure is the client's own cost.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from compiled_sources import compile_sources

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


def _hits(label: str, lifetime: timedelta, runs: int, home: str, env: dict[str, str]) -> None:
    """Median of cache hits for a just-minted credential of ``lifetime``, beside the baseline."""
    from broker.minters.base import Credentials
    from broker.store.credential_store import CredentialStore

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
            expiration=datetime.now(UTC) + lifetime,
        ),
        stamp=store.revocation_stamp(),  # as a mint records it: the fast path serves it
    )
    broker = [sys.executable, "-m", "broker", "credential-process", "--profile", "bench"]
    baseline = [sys.executable, "-c", "pass"]
    _timed(broker, env)  # warm the page cache once
    broker_times: list[float] = []
    base_times: list[float] = []
    for _ in range(max(20, runs)):
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
    print(f"{label} credential, cache hits ({len(broker_times)} runs)")
    print(f"  python -c pass            median {p:6.1f} ms")
    print(f"  credential-process (hit)  median {b:6.1f} ms")
    print(f"  ratio                     {b / p:6.2f}x   (target <= 2x)")
    print(
        f"  peak RSS                  {peak / 1024:6.1f} MB (target <= 40 MB; python -c pass: "
        f"{base_peak / 1024:.1f} MB)"
    )


def _burst(callers: int, home: str, env: dict[str, str]) -> None:
    """Wall time of ``callers`` helpers started at once on an expired cache."""
    from broker.signin import LoginInput, run_login
    from broker.store.credential_store import CredentialStore
    from providers.testing import SilentUI
    from tests.client_support import (
        CountingMinter,
        TestIdP,
        seed_expired,
        write_config,
        write_counting_minter_site,
    )

    work = Path(home) / "burst"
    site = write_counting_minter_site(work / "site")
    store = CredentialStore(Path(home))
    run_login(LoginInput(provider="corp"), store=store, build=lambda _n: TestIdP(), ui=SilentUI())
    seed_expired(store)
    log = work / "mints.log"
    burst_env = {
        **env,
        "PYTHONPATH": os.pathsep.join([str(site), str(REPO)]),
        "BROKER_CONFIG": str(write_config(work / "config")),
        "TEST_MINT_LOG": str(log),
    }
    argv = [sys.executable, "-m", "broker", "credential-process", "--profile", "dev"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    procs = [
        subprocess.Popen(argv, env=burst_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(callers)
    ]
    results = [proc.communicate(timeout=300) for proc in procs]
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    failed = [err for proc, (_out, err) in zip(procs, results, strict=True) if proc.returncode]
    if failed:
        raise SystemExit(f"burst: {len(failed)} helpers failed: {failed[0].decode().strip()}")
    keys = {json.loads(out)["AccessKeyId"] for out, _err in results}
    store.forget_session("corp")
    print(f"cold burst of {callers} helpers (expired cache)")
    print(f"  all answered in           {elapsed:6.2f} s   (target <= 5 s on two cores)")
    print(f"  CPU time of the helpers   {cpu:6.2f} s   (all {callers} together)")
    print(f"  mints                     {CountingMinter(log).count():6d}     (must be 1)")
    print(f"  distinct answers          {len(keys):6d}     (must be 1)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--burst", type=int, default=50, help="helpers in the cold burst (0: none)")
    args = parser.parse_args()
    _under_keyring()
    compile_sources()  # as pip does at install: see bench/compiled_sources.py

    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "BROKER_HOME": home, "PYTHONPATH": str(REPO)}
        os.chmod(home, 0o700)
        _hits("15-minute", timedelta(minutes=15), args.runs, home, env)
        _hits("12-hour", timedelta(hours=12), args.runs, home, env)
        if args.burst:
            _burst(args.burst, home, env)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
