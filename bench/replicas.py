"""Replica benchmark: two processes sharing PostgreSQL beside one process on SQLite, same load.

    python bench/replicas.py [--seconds 10] [--threads 8]

The load is the shared-state work each STS call of `broker serve` does (the STS issue's load:
GetCallerIdentity, GetSessionToken, AssumeRoleWithWebIdentity): a revocation check for the
presented session, a replay-cache insert for the one-time value (ID token ``jti`` / SAML
assertion id) on every third call, and one audit event appended to the hash chain and committed
before the answer. Closed loop, ``--threads`` callers in total: all in one process on SQLite
(the embedded default), or split over two replica processes, each with its own connection
pool, on a private PostgreSQL cluster started for the run. Prints calls/s and p50/p99 latency
for each, the PostgreSQL/SQLite throughput ratio, and verifies each audit chain afterwards.

Until `broker serve` reads its state through ``broker.storage`` (the STS branch lands it), this
drives the state layer directly rather than HTTP; the figures are what the database adds to
each call, which is what a second replica changes.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from broker.storage.audit_chain import SqlAuditLog  # noqa: E402
from broker.storage.database import open_database  # noqa: E402
from broker.storage.migrations import upgrade  # noqa: E402
from broker.storage.replay import SqlReplayCache  # noqa: E402
from broker.storage.revocations import RevocationRule, SqlRevocations  # noqa: E402

ROLE = "arn:aws:iam::111122223333:role/Developer"


def worker(url: str, seconds: float, threads: int, tag: str) -> dict[str, object]:
    """Run the closed loop in this process; latencies in milliseconds."""
    database = open_database(url, pool_size=threads)
    audit, revocations, replay = (
        SqlAuditLog(database),
        SqlRevocations(database),
        SqlReplayCache(database),
    )
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def loop(n: int) -> None:
        nonlocal errors
        mine: list[float] = []
        bad, i = 0, 0
        issued = datetime.now(UTC)
        while time.monotonic() < stop_at:
            i += 1
            start = time.perf_counter()
            try:
                if revocations.is_revoked_session(
                    session_id=f"{tag}-{n}", role_arn=ROLE, user="alice", issued_at=issued
                ):
                    bad += 1
                if i % 3 == 0:
                    replay.add_once(
                        "jti", secrets.token_hex(8), datetime.now(UTC) + timedelta(minutes=5)
                    )
                audit.append({"eventName": "GetCallerIdentity", "eventID": f"{tag}-{n}-{i}"})
            except Exception:
                bad += 1
            mine.append((time.perf_counter() - start) * 1000)
        with lock:
            latencies.extend(mine)
            errors += bad

    pool = [threading.Thread(target=loop, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    database.close()
    return {"latencies": latencies, "errors": errors}


def _prepare(url: str) -> None:
    database = open_database(url)
    upgrade(database)
    SqlRevocations(database).add(
        RevocationRule("user", "mallory", datetime.now(UTC))
    )  # a rule to check against
    database.close()


def _summary(name: str, results: list[dict[str, object]], seconds: float) -> dict[str, float]:
    latencies = sorted(x for r in results for x in r["latencies"])  # type: ignore[attr-defined]
    errors = sum(int(r["errors"]) for r in results)  # type: ignore[call-overload]
    count = len(latencies)
    p50 = latencies[count // 2] if count else float("nan")
    p99 = latencies[min(count - 1, int(count * 0.99))] if count else float("nan")
    rate = count / seconds
    print(
        f"{name:<34} {rate:9.0f} calls/s   p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   errors {errors}"
    )
    return {"rate": rate, "p99": p99}


def _spawn(url: str, seconds: float, threads: int, tag: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, __file__, "--worker", url, str(seconds), str(threads), tag],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def _collect(process: subprocess.Popen[str], seconds: float) -> dict[str, object]:
    out, _ = process.communicate(timeout=seconds + 120)
    if process.returncode != 0:
        raise SystemExit(f"a replica exited with {process.returncode}")
    result: dict[str, object] = json.loads(out)
    return result


def _verify(url: str) -> str:
    database = open_database(url)
    check = SqlAuditLog(database).verify()
    database.close()
    state = "verifies" if check.ok else f"BROKEN: {check.problem}"
    return f"chain {state} ({check.events} events)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=8, help="concurrent callers in total")
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        url, seconds, threads, tag = args.worker
        print(json.dumps(worker(url, float(seconds), int(threads), tag)))
        return

    from tests.postgres_peer import postgres_cluster

    print(f"{args.threads} callers, {args.seconds:.0f} s each; cpus: {os.cpu_count()}")
    with tempfile.TemporaryDirectory(prefix="broker-bench-") as tmp:
        sqlite_url = f"sqlite://{Path(tmp) / 'broker.db'}"
        _prepare(sqlite_url)
        single = _summary(
            "1 process, SQLite",
            [_collect(_spawn(sqlite_url, args.seconds, args.threads, "s"), args.seconds)],
            args.seconds,
        )
        print(f"{'':<34} {_verify(sqlite_url)}")
    with postgres_cluster() as server:
        import psycopg

        with psycopg.connect(server.url(), autocommit=True) as admin:
            admin.execute("CREATE DATABASE bench")
        pg_url = server.url("bench")
        _prepare(pg_url)
        half = max(1, args.threads // 2)
        replicas = [_spawn(pg_url, args.seconds, half, tag) for tag in ("a", "b")]
        double = _summary(
            "2 replicas, PostgreSQL",
            [_collect(p, args.seconds) for p in replicas],
            args.seconds,
        )
        print(f"{'':<34} {_verify(pg_url)}")
    print(
        f"ratio PostgreSQL replicas / SQLite: throughput {double['rate'] / single['rate']:.2f}x, "
        f"p99 {double['p99'] / single['p99']:.2f}x"
    )


if __name__ == "__main__":
    main()
