"""STS load benchmark: `broker serve` against moto's STS server, same load, same run.

    python bench/sts.py [--seconds 30] [--connections 64] [--rate 1000]

Starts both servers on 127.0.0.1 and measures, for each server and call:

(a) saturation: a closed loop of ``--connections`` keep-alive connections driven by ``wrk``
    (C; one request in flight per connection), requests/s, p50/p99, and the broker/moto ratio;
(b) latency at a fixed offered rate: ``--rate`` requests/s over the same connections from an
    open-loop generator that measures each request from its due time (bench/sts_load.py).

The calls are those of the STS speed goal (README), SigV4-signed GetCallerIdentity with session
credentials (the token verified, the secret re-derived, the signature checked, revocation
read, the call audited) and AssumeRoleWithWebIdentity (an RS256 ID token verified against the
provider's JWKS, the trust policy evaluated, an ES256 session token minted and audited), plus
GetSessionToken (a long-term key mints credentials). Each figure comes with the server's CPU
seconds per request (from /proc, so it means something while other work loads the machine),
the load generator's own CPU, and the load average. PASS/FAIL against each target, then
`broker audit verify` on the broker's log. The broker side is `broker serve`'s ASGI app with a
plain-data role source (bench/sts_roles_app.py) so the IdP's JWKS is answered in-process.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

from bench.sts_load import (  # noqa: E402
    MachineProbe,
    ProcessCpu,
    closed_loop,
    free_port,
    load_average,
    open_loop,
    signed,
    signed_raw,
    unsigned_raw,
    wait_up,
)

TARGET_RPS = 1000
TARGET_RATIO = 5.0
TARGET_P99_MS = 50.0
GOAL_CALLS = ("GetCallerIdentity (session)", "AssumeRoleWithWebIdentity")


def start(cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def web_identity_body(env: dict[str, str]) -> str:
    """An RS256 ID token from a bench IdP whose JWKS goes to the broker in ``BENCH_JWKS``."""
    from joserfc import jwt
    from joserfc.jwk import RSAKey

    idp_key = RSAKey.generate_key(2048, parameters={"kid": "bench"})
    jwks = {"keys": [{**idp_key.as_dict(private=False), "kid": "bench", "use": "sig"}]}
    env["BENCH_JWKS"] = json.dumps(jwks)
    now = int(time.time())
    id_token = jwt.encode(
        {"alg": "RS256", "kid": "bench"},
        {
            "iss": "https://idp.bench.example.com",
            "aud": "bench",
            "sub": "ci@example.com",
            "iat": now,
            "exp": now + 3600,
        },
        idp_key,
    )
    return urlencode(
        {
            "Action": "AssumeRoleWithWebIdentity",
            "Version": "2011-06-15",
            "RoleArn": "arn:aws:iam::111122223333:role/BenchRole",
            "RoleSessionName": "bench",
            "WebIdentityToken": id_token,
        }
    )


def credentials_from(text: str) -> Credentials:
    return Credentials(
        *(
            text.split(f"<{n}>")[1].split(f"</{n}>")[0]
            for n in ("AccessKeyId", "SecretAccessKey", "SessionToken")
        )
    )


def describe(name: str, server: str, r: dict[str, Any]) -> str:
    extra = f"  p99 {r['p99_ms']:7.1f} ms  errors {r['errors']}"
    if "offered" in r:
        extra += f"  late/unsent {r['unsent']}  max {r['max_ms']:.0f} ms"
    return (
        f"{name:28} {server:6} {r['rps']:7.0f} req/s  p50 {r['p50_ms']:6.1f} ms{extra}  "
        f"server {1e6 * r['server_cpu'] / max(r['requests'], 1):6.0f} us CPU/req  "
        f"client {100 * r['client_cpu'] / r['seconds']:3.0f}% CPU  load {r['load']}\n"
        f"{'':36}{r['machine']}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rate", type=float, default=TARGET_RPS, help="open-loop requests/s")
    parser.add_argument("--workers", type=int, default=2, help="broker serve processes")
    parser.add_argument(
        "--data-parent",
        help="where the broker's data directory (audit log) goes; default the temp dir. "
        "A tmpfs here (/dev/shm) takes the disk's fsync out of the figures: a diagnostic only",
    )
    parser.add_argument(
        "--audit-sync",
        choices=("fsync", "interval"),
        default="fsync",
        help="as `broker serve --audit-sync`: fsync before each answer (default), or within 0.2 s",
    )
    parser.add_argument("--keep-data", action="store_true", help="keep the data directory")
    parser.add_argument("--part", choices=("a", "b", "both"), default="both", help="which figures")
    parser.add_argument(
        "--no-moto-open-loop",
        action="store_true",
        help="skip (b) against moto (it cannot keep up; its figures only show by how much)",
    )
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="broker-bench-", dir=args.data_parent))
    os.chmod(home, 0o700)
    env = dict(
        os.environ,
        BROKER_HOME=str(home),
        BROKER_CONFIG=str(REPO / "config"),
        PYTHONPATH=str(REPO),
        BROKER_AUDIT_SYNC=args.audit_sync,
    )
    web_identity = web_identity_body(env)
    created = subprocess.run(
        [
            sys.executable,
            "-m",
            "broker",
            "access-keys",
            "create",
            "bench",
            "--account",
            "111122223333",
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    key = json.loads(created.stdout)["AccessKey"]
    user = Credentials(key["AccessKeyId"], key["SecretAccessKey"])

    broker_url = f"http://127.0.0.1:{free_port()}"
    moto_url = f"http://127.0.0.1:{free_port()}"
    uvicorn = [sys.executable, "-m", "uvicorn", "--factory", "bench.sts_roles_app:app"]
    servers = {
        "broker": start(
            [
                *uvicorn,
                "--host",
                "127.0.0.1",
                "--port",
                broker_url.rsplit(":", 1)[1],
                "--workers",
                str(args.workers),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env,
        ),
        "moto": start(
            [
                sys.executable,
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                moto_url.rsplit(":", 1)[1],
            ],
            env,
        ),
    }
    urls = {"broker": broker_url, "moto": moto_url}
    print(
        f"{os.cpu_count()} CPUs, {args.connections} connections, {args.seconds:.0f} s per run, "
        f"broker: {args.workers} uvicorn workers, audit sync {args.audit_sync}; "
        f"load average {load_average()}"
    )
    checks: list[tuple[str, bool]] = []
    try:
        wait_up(broker_url + "/health", servers["broker"])
        wait_up(moto_url + "/moto-api/", servers["moto"])
        headers, body = signed(broker_url, "Action=GetSessionToken&Version=2011-06-15", user)
        session = credentials_from(httpx.post(broker_url + "/", content=body, headers=headers).text)
        moto_creds = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        calls = (
            ("GetCallerIdentity (session)", "Action=GetCallerIdentity&Version=2011-06-15", session),
            ("AssumeRoleWithWebIdentity", web_identity, None),
            ("GetSessionToken (mint)", "Action=GetSessionToken&Version=2011-06-15", user),
        )

        def requests_for(server: str, body: str, creds: Credentials | None) -> list[bytes]:
            url = urls[server]
            if creds is None:
                return unsigned_raw(url, body)
            return signed_raw(url, body, creds if server == "broker" else moto_creds)

        def measure(server: str, run: Any) -> dict[str, Any]:
            cpu = ProcessCpu(servers[server].pid)
            probe = MachineProbe(args.seconds, home)
            before = cpu.seconds()
            result: dict[str, Any] = run()
            result["server_cpu"] = cpu.seconds() - before
            result["seconds"] = args.seconds
            result["load"] = load_average()
            result["machine"] = probe.summary()
            return result

        for server in ("broker", "moto"):  # first calls import lazily: not part of any figure
            for _name, body, creds in calls:
                closed_loop([(urls[server], requests_for(server, body, creds))], 1, 8)
        print("(a) saturation: closed loop, wrk, one request in flight per connection")
        for name, body, creds in calls if args.part != "b" else ():
            results = {}
            for server in ("broker", "moto"):
                raws = requests_for(server, body, creds)
                results[server] = r = measure(
                    server,
                    lambda url=urls[server], raws=raws: closed_loop(
                        [(url, raws)], args.seconds, args.connections
                    ),
                )
                print(describe(name, server, r))
            ratio = results["broker"]["rps"] / max(results["moto"]["rps"], 1e-9)
            broker_r = results["broker"]
            print(f"{name:28} ratio broker/moto {ratio:.2f}x")
            if name in GOAL_CALLS:
                checks.append(
                    (
                        f"(a) {name}: >= {TARGET_RPS} req/s, >= {TARGET_RATIO:.0f}x moto, "
                        f"0 errors ({broker_r['rps']:.0f} req/s, {ratio:.2f}x, "
                        f"{broker_r['errors']} errors)",
                        broker_r["rps"] >= TARGET_RPS
                        and ratio >= TARGET_RATIO
                        and broker_r["errors"] == 0,
                    )
                )
        print(
            f"(b) latency at a fixed offered rate: open loop, {args.rate:.0f} req/s over "
            f"{args.connections} connections, latency from each request's due time"
        )
        for name, body, creds in calls if args.part != "a" else ():
            if name not in GOAL_CALLS:
                continue
            for server in ("broker", "moto"):
                if server == "moto" and args.no_moto_open_loop:
                    continue
                raws = requests_for(server, body, creds)
                r = measure(
                    server,
                    lambda url=urls[server], raws=raws: open_loop(
                        url, raws, args.rate, args.seconds, args.connections
                    ),
                )
                print(describe(name, server, r))
                if server == "broker":
                    kept_up = r["requests"] >= 0.99 * r["offered"]
                    checks.append(
                        (
                            f"(b) {name}: p99 < {TARGET_P99_MS:.0f} ms at {args.rate:.0f} req/s, "
                            f"0 errors (p99 {r['p99_ms']:.1f} ms, {r['requests']}/{r['offered']} "
                            f"answered, {r['errors']} errors)",
                            r["p99_ms"] < TARGET_P99_MS and kept_up and r["errors"] == 0,
                        )
                    )
    finally:
        for server in servers.values():
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
    verify = subprocess.run(
        [sys.executable, "-m", "broker", "audit", "verify"], env=env, capture_output=True, text=True
    )
    checks.append(
        (f"audit log verifies: {(verify.stdout or verify.stderr).strip()}", verify.returncode == 0)
    )
    if args.keep_data:
        print(f"data directory kept: {home}")
    else:  # hundreds of MB of audit log after a 30 s run (in RAM under a tmpfs --data-parent)
        shutil.rmtree(home, ignore_errors=True)
    print(f"load average {load_average()}")
    where = (
        f"  [data under {args.data_parent}: a diagnostic, not the target, unless that is "
        "durable storage]"
    )
    for label, ok in checks:
        print(f"{verdict(ok)}  {label}{where if args.data_parent else ''}")
    return 0 if all(ok for _label, ok in checks) else 1


if __name__ == "__main__":
    raise SystemExit(main())
