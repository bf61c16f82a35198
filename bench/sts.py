"""STS load benchmark: `broker serve` against moto's STS server, same load, same run.

    python bench/sts.py [--seconds 30] [--connections 64]

Starts both servers on 127.0.0.1, then for each runs a closed-loop load of SigV4-signed
GetCallerIdentity (session credentials: the token is verified, the secret re-derived, the
signature checked and the call audited), GetSessionToken (a long-term key mints credentials:
ES256 signing plus an audited, fsynced event) and AssumeRoleWithWebIdentity (an RS256 ID token
verified against the provider's JWKS, the trust policy evaluated, a role session minted).
Prints requests/s, p50/p99 latency and errors for each, the broker/moto ratio, and checks that
the broker's audit log verifies. The broker side is `broker serve`'s ASGI app with a plain-data
role source (bench/sts_roles_app.py) until the directory backs `broker serve`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_up(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server for {url} exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"server {url} did not start in {timeout}s")


def signed(url: str, body: str, creds: Credentials) -> tuple[dict[str, str], bytes]:
    request = AWSRequest(
        method="POST",
        url=url + "/",
        data=body.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    SigV4Auth(creds, "sts", "us-east-1").add_auth(request)
    prepared = request.prepare()
    headers = dict(prepared.headers.items())
    headers["Host"] = urlsplit(url).netloc
    return headers, prepared.body


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes
) -> tuple[int, bool]:
    """Send one HTTP/1.1 request; read the whole answer; return its status and whether the
    server closes the connection (moto's Werkzeug server answers ``Connection: close``)."""
    writer.write(raw)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length, close = 0, False
    for line in head.split(b"\r\n"):
        lower = line.lower()
        if lower.startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
        elif lower.startswith(b"connection:") and b"close" in lower:
            close = True
    await reader.readexactly(length)
    return status, close


def raw_request(url: str, headers: dict[str, str], body: bytes) -> bytes:
    kept = {k: v for k, v in headers.items() if k.lower() != "content-length"}
    lines = ["POST / HTTP/1.1", *(f"{k}: {v}" for k, v in kept.items())]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def load(
    url: str, requests: list[tuple[dict[str, str], bytes]], seconds: float, connections: int
) -> dict:
    """A closed loop: ``connections`` keep-alive connections, each one request at a time.

    A raw asyncio HTTP/1.1 client: a general-purpose client library costs more CPU per request
    than the servers under test on this 2-core machine and would measure itself.
    """
    host, port = urlsplit(url).netloc.split(":")
    raws = [raw_request(url, headers, body) for headers, body in requests]
    latencies: list[float] = []
    errors = 0
    stop = time.monotonic() + seconds

    async def worker(index: int) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while time.monotonic() < stop:
                start = time.perf_counter()
                try:
                    status, close = await asyncio.wait_for(
                        _exchange(reader, writer, raws[index % len(raws)]), timeout=10
                    )
                except (OSError, asyncio.IncompleteReadError, ValueError, TimeoutError):
                    errors += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, int(port))
                    continue
                if close:
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, int(port))
                if status != 200:
                    errors += 1
                latencies.append(time.perf_counter() - start)
        finally:
            writer.close()

    began = time.monotonic()
    await asyncio.gather(*(worker(i) for i in range(connections)))
    elapsed = time.monotonic() - began
    latencies.sort()
    count = len(latencies)
    return {
        "requests": count,
        "rps": count / elapsed,
        "p50_ms": 1000 * latencies[count // 2] if count else 0,
        "p99_ms": 1000 * latencies[min(count - 1, int(count * 0.99))] if count else 0,
        "errors": errors,
        "latencies": latencies,
    }


def unsigned_headers(url: str) -> dict[str, str]:
    return {
        "Host": urlsplit(url).netloc,
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
    }


def start(cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2, help="broker serve processes")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="broker-bench-"))
    os.chmod(home, 0o700)
    from joserfc import jwt
    from joserfc.jwk import RSAKey

    idp_key = RSAKey.generate_key(2048, parameters={"kid": "bench"})
    jwks = {"keys": [{**idp_key.as_dict(private=False), "kid": "bench", "use": "sig"}]}
    env = dict(
        os.environ,
        BROKER_HOME=str(home),
        BROKER_CONFIG=str(REPO / "config"),
        PYTHONPATH=str(REPO),
        BENCH_JWKS=json.dumps(jwks),
    )
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
    web_identity_body = urlencode(
        {
            "Action": "AssumeRoleWithWebIdentity",
            "Version": "2011-06-15",
            "RoleArn": "arn:aws:iam::111122223333:role/BenchRole",
            "RoleSessionName": "bench",
            "WebIdentityToken": id_token,
        }
    )
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
    servers = [
        start(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "bench.sts_roles_app:app",
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
        start(
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
    ]
    try:
        wait_up(broker_url + "/health", servers[0])
        wait_up(moto_url + "/moto-api/", servers[1])
        minted = httpx.post(
            broker_url + "/",
            content=signed(broker_url, "Action=GetSessionToken&Version=2011-06-15", user)[1],
            headers=signed(broker_url, "Action=GetSessionToken&Version=2011-06-15", user)[0],
        )
        text = minted.text
        session = Credentials(
            *(
                text.split(f"<{n}>")[1].split(f"</{n}>")[0]
                for n in ("AccessKeyId", "SecretAccessKey", "SessionToken")
            )
        )
        moto_creds = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        results = {}
        for name, body, broker_creds in (
            ("GetCallerIdentity (session)", "Action=GetCallerIdentity&Version=2011-06-15", session),
            ("GetSessionToken (mint)", "Action=GetSessionToken&Version=2011-06-15", user),
            ("AssumeRoleWithWebIdentity", web_identity_body, None),
        ):
            for server, url, creds in (
                ("broker", broker_url, broker_creds),
                ("moto", moto_url, moto_creds if broker_creds else None),
            ):
                requests = (
                    [signed(url, body, creds) for _ in range(8)]
                    if creds is not None
                    else [(unsigned_headers(url), body.encode())]
                )
                results[(name, server)] = asyncio.run(
                    load(url, requests, args.seconds, args.connections)
                )
                r = results[(name, server)]
                print(
                    f"{name:30} {server:6} {r['rps']:8.0f} req/s  p50 {r['p50_ms']:6.1f} ms  "
                    f"p99 {r['p99_ms']:6.1f} ms  errors {r['errors']}  ({r['requests']} requests)"
                )
            ratio = results[(name, "broker")]["rps"] / max(results[(name, "moto")]["rps"], 1e-9)
            print(f"{name:30} ratio broker/moto: {ratio:.2f}x")
    finally:
        for server in servers:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
    verify = subprocess.run(
        [sys.executable, "-m", "broker", "audit", "verify"], env=env, capture_output=True, text=True
    )
    print("audit:", (verify.stdout or verify.stderr).strip())
    return 0 if verify.returncode == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
