"""Replica benchmark over HTTP: two `broker serve` replicas on PostgreSQL beside one `broker
serve` on SQLite (the embedded default), the same load, in the same run.

    python bench/replicas.py [--seconds 10] [--connections 32]

The load is bench/sts.py's (wrk's closed loop over pre-signed requests, bench/sts_load.py),
for the calls a plain `broker serve` answers without a configured identity provider:
GetCallerIdentity with session credentials (token verified, revocations read, event audited)
and GetSessionToken with a long-term key (a session minted and audited). ``--connections`` in
total: all to the SQLite process, or half to each replica (their own data directories, sharing
only ``BROKER_DATABASE_URL`` on a private PostgreSQL cluster started for the run). Each server
is one `broker serve` process. Prints requests/s and p50/p99 for each, the
PostgreSQL/SQLite throughput ratio, and `broker audit verify` for both (the embedded SQLite
chain and the PostgreSQL one).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

from bench.sts_load import closed_loop, free_port, load_average, signed, signed_raw, wait_up  # noqa: E402

CALLS = (
    ("GetCallerIdentity (session)", "Action=GetCallerIdentity&Version=2011-06-15", "session"),
    ("GetSessionToken (mint)", "Action=GetSessionToken&Version=2011-06-15", "user"),
)


def broker(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "broker", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def server_env(database_url: str | None) -> dict[str, str]:
    home = Path(tempfile.mkdtemp(prefix="broker-bench-"))
    os.chmod(home, 0o700)
    env = dict(
        os.environ, BROKER_HOME=str(home), BROKER_CONFIG=str(REPO / "config"), PYTHONPATH=str(REPO)
    )
    env.pop("BROKER_DATABASE_URL", None)
    if database_url:
        env["BROKER_DATABASE_URL"] = database_url
    return env


def serve(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    url = f"http://127.0.0.1:{free_port()}"
    process = subprocess.Popen(
        [sys.executable, "-m", "broker", "serve", "--port", url.rsplit(":", 1)[1]],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_up(url + "/health", process)
    return process, url


def credentials(env: dict[str, str], url: str) -> dict[str, Credentials]:
    created = broker(env, "access-keys", "create", "bench", "--account", "111122223333", "--json")
    if created.returncode != 0:
        raise SystemExit(f"access-keys create failed: {created.stderr.strip()}")
    key = json.loads(created.stdout)["AccessKey"]
    user = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
    headers, body = signed(url, "Action=GetSessionToken&Version=2011-06-15", user)
    text = httpx.post(url + "/", content=body, headers=headers).text
    session = Credentials(
        *(
            text.split(f"<{n}>")[1].split(f"</{n}>")[0]
            for n in ("AccessKeyId", "SecretAccessKey", "SessionToken")
        )
    )
    return {"user": user, "session": session}


def spread(
    urls: list[str], body: str, creds: Credentials, seconds: float, connections: int
) -> dict[str, Any]:
    """The same closed loop (wrk), ``connections`` split evenly over ``urls``; merged figures
    (p50/p99: the worse replica's)."""
    return closed_loop([(url, signed_raw(url, body, creds)) for url in urls], seconds, connections)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()

    from broker.storage.database import open_database
    from broker.storage.migrations import upgrade
    from tests.integration.conftest import stop_server
    from tests.postgres_peer import postgres_cluster

    print(f"load average: {load_average()}")
    processes: list[subprocess.Popen[bytes]] = []
    with postgres_cluster() as cluster:
        database = open_database(cluster.url(), pool_size=1)
        upgrade(database)
        database.close()
        try:
            sqlite_env = server_env(None)
            process, sqlite_url = serve(sqlite_env)
            processes.append(process)
            replica_envs = [server_env(cluster.url()) for _ in range(2)]
            replica_urls = []
            for env in replica_envs:
                process, url = serve(env)
                processes.append(process)
                replica_urls.append(url)
            setups = (
                ("sqlite x1", [sqlite_url], credentials(sqlite_env, sqlite_url)),
                ("postgres x2", replica_urls, credentials(replica_envs[0], replica_urls[0])),
            )
            for name, body, which in CALLS:
                results = {}
                for setup, urls, creds in setups:
                    r = spread(urls, body, creds[which], args.seconds, args.connections)
                    results[setup] = r
                    print(
                        f"{name:28} {setup:11} {r['rps']:8.0f} req/s  p50 {r['p50_ms']:6.1f} ms"
                        f"  p99 {r['p99_ms']:6.1f} ms  errors {r['errors']}"
                        f"  ({r['requests']} requests)"
                    )
                ratio = results["postgres x2"]["rps"] / max(results["sqlite x1"]["rps"], 1e-9)
                print(f"{name:28} ratio postgres x2 / sqlite x1: {ratio:.2f}x")
        finally:
            for process in processes:
                stop_server(process)
        failed = 0
        for label, env in (("sqlite file log", sqlite_env), ("postgres chain", replica_envs[1])):
            verify = broker(env, "audit", "verify")
            failed |= verify.returncode
            print(f"audit ({label}):", (verify.stdout or verify.stderr).strip())
        for env in (sqlite_env, *replica_envs):  # the data directories this run made
            shutil.rmtree(env["BROKER_HOME"], ignore_errors=True)
    print(f"load average: {load_average()}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
