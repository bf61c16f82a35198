"""Load generators and CPU accounting for the STS benchmarks (bench/sts.py, bench/replicas.py).

Two generators, both sending pre-built, pre-signed raw HTTP/1.1 requests (SigV4 signatures
stay valid for the ±5 minute window, and the broker, like AWS, does not refuse a signature it
has seen before):

- ``closed_loop``: ``wrk`` (C, Debian's package) keeps ``connections`` keep-alive connections
  each with one request in flight, for saturation throughput. A closed loop hides queueing: by
  Little's law its mean latency is connections / throughput, whatever the server's own speed.
- ``open_loop``: a small asyncio client (uvloop when installed) that sends at a fixed rate.
  Request ``i`` is due at ``start + i / rate``; its latency is measured from that due time, not
  from when a connection was free to send it, so a stalled server is charged for every request
  it delayed (no coordinated omission). Requests still unsent at the end are counted as late.

Both report the generator's own CPU seconds, and ``ProcessCpu`` reads a server's (and its
worker processes') CPU from ``/proc``, so figures can be put per request and checked against
what else was loading the two cores.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

__all__ = [
    "MachineProbe",
    "ProcessCpu",
    "closed_loop",
    "free_port",
    "load_average",
    "open_loop",
    "raw_request",
    "signed",
    "signed_raw",
    "unsigned_raw",
    "wait_up",
]

_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


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
    """Headers and body of a SigV4-signed STS POST (botocore signs, as the AWS CLI would)."""
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


def raw_request(headers: dict[str, str], body: bytes) -> bytes:
    kept = {k: v for k, v in headers.items() if k.lower() != "content-length"}
    lines = ["POST / HTTP/1.1", *(f"{k}: {v}" for k, v in kept.items())]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def signed_raw(url: str, body: str, creds: Credentials, count: int = 8) -> list[bytes]:
    """``count`` requests, each signed separately (as many clients would send them)."""
    return [raw_request(*signed(url, body, creds)) for _ in range(count)]


def unsigned_raw(url: str, body: str) -> list[bytes]:
    headers = {
        "Host": urlsplit(url).netloc,
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
    }
    return [raw_request(headers, body.encode())]


class ProcessCpu:
    """CPU seconds used by a process and its children (uvicorn's workers), from ``/proc``."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def _tree(self) -> list[int]:
        pids, frontier = [self.pid], [self.pid]
        while frontier:
            pid = frontier.pop()
            try:
                children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            except OSError:
                continue
            frontier.extend(int(child) for child in children)
            pids.extend(int(child) for child in children)
        return pids

    def seconds(self) -> float:
        total = 0
        for pid in self._tree():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
        return total / _TICKS


_PROBE = r"""
import json, os, sys, time
seconds, path = float(sys.argv[1]), sys.argv[2]
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
late, syncs = [], []
end = time.monotonic() + seconds
while time.monotonic() < end:
    t = time.monotonic(); time.sleep(0.001); late.append(time.monotonic() - t - 0.001)
    if len(late) % 10 == 0:
        os.write(fd, b"x" * 512); t = time.monotonic(); os.fsync(fd)
        syncs.append(time.monotonic() - t)
os.close(fd); os.unlink(path)
print(json.dumps({"late": sorted(late), "fsync": sorted(syncs)}))
"""


class MachineProbe:
    """What the machine did to everyone during a run, measured from a separate process.

    Every millisecond it sleeps 1 ms and records how late it woke (CPU scheduling delay: the
    other sessions' load), and every tenth time it appends 512 bytes and fsyncs them in the
    broker's data directory (the disk's fsync latency, which every audited answer waits for).
    A server's latency percentiles cannot be better than what these show.
    """

    def __init__(self, seconds: float, directory: Path) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-c", _PROBE, str(seconds), str(directory / "fsync-probe")],
            stdout=subprocess.PIPE,
            text=True,
        )

    def summary(self) -> str:
        out, _ = self._process.communicate(timeout=120)
        data = json.loads(out)

        def pct(values: list[float], q: float) -> float:
            return 1000 * values[min(len(values) - 1, int(len(values) * q))] if values else 0.0

        late, sync = data["late"], data["fsync"]
        return (
            f"machine: wake-up delay p99 {pct(late, 0.99):.1f} ms, max {pct(late, 1):.0f} ms; "
            f"fsync p99 {pct(sync, 0.99):.1f} ms, max {pct(sync, 1):.0f} ms"
        )


def _lua_string(data: bytes) -> str:
    """A Lua string literal for ``data`` with every CR/LF kept (long brackets would fold them)."""
    out = []
    for byte in data:
        char = chr(byte)
        if 32 <= byte < 127 and char not in '"\\':
            out.append(char)
        else:
            out.append(f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


_LUA = """
local requests = {%s}
local n = 0
request = function()
  n = n + 1
  return requests[(n %% #requests) + 1]
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK %%d %%d %%d %%d %%d %%d %%d %%d %%d %%.1f\\n",
    summary.duration, summary.requests, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
"""


def _start_wrk(
    url: str, raws: list[bytes], seconds: float, connections: int, threads: int
) -> tuple[subprocess.Popen[str], Path]:
    script = Path(tempfile.mkstemp(prefix="bench-wrk-", suffix=".lua")[1])
    script.write_text(_LUA % ",".join(_lua_string(raw) for raw in raws))
    process = subprocess.Popen(
        [
            "wrk",
            f"-t{min(threads, connections)}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url + "/",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return process, script


def _finish_wrk(process: subprocess.Popen[str], script: Path) -> dict[str, Any]:
    try:
        _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        output = process.stdout.read() if process.stdout else ""
    finally:
        script.unlink(missing_ok=True)
    line = next((x for x in output.splitlines() if x.startswith("WRK ")), None)
    if line is None:
        raise SystemExit(f"wrk failed:\n{output}")
    fields = line.split()[1:]
    duration_us, requests = int(fields[0]), int(fields[1])
    connect, read, write, status_errors, timeouts = (int(x) for x in fields[2:7])
    return {
        "requests": requests,
        "rps": requests / (duration_us / 1e6),
        "p50_ms": int(fields[7]) / 1000,
        "p99_ms": int(fields[8]) / 1000,
        "mean_ms": float(fields[9]) / 1000,
        # connect/read errors also count closed connections a server ends (moto answers
        # "Connection: close"); wrk reconnects and those requests are not lost.
        "errors": write + status_errors + timeouts,
        "socket_errors": connect + read,
        "client_cpu": usage.ru_utime + usage.ru_stime,
    }


def closed_loop(
    targets: list[tuple[str, list[bytes]]], seconds: float, connections: int
) -> dict[str, Any]:
    """wrk against each ``(url, requests)`` at once, ``connections`` split evenly over them.

    With several targets, p50/p99 are the worst target's (wrk's percentiles do not merge).
    """
    share = max(1, connections // len(targets))
    started = [_start_wrk(url, raws, seconds, share, threads=2) for url, raws in targets]
    parts = [_finish_wrk(process, script) for process, script in started]
    return {
        "requests": sum(p["requests"] for p in parts),
        "rps": sum(p["rps"] for p in parts),
        "p50_ms": max(p["p50_ms"] for p in parts),
        "p99_ms": max(p["p99_ms"] for p in parts),
        "mean_ms": max(p["mean_ms"] for p in parts),
        "errors": sum(p["errors"] for p in parts),
        "socket_errors": sum(p["socket_errors"] for p in parts),
        "client_cpu": sum(p["client_cpu"] for p in parts),
    }


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes
) -> tuple[int, bool]:
    """Send one request, read the whole answer: its status and whether the server closes."""
    writer.write(raw)
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


async def _open_loop(
    url: str, raws: list[bytes], rate: float, seconds: float, connections: int
) -> dict[str, Any]:
    host, port = urlsplit(url).netloc.split(":")
    total = int(rate * seconds)
    latencies: list[float] = []
    errors = 0
    next_index = 0
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.2
    deadline = start + seconds

    async def connection() -> None:
        nonlocal errors, next_index
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while next_index < total:
                index = next_index
                next_index += 1
                due = start + index / rate
                if due > deadline:
                    return
                delay = due - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                try:
                    status, close = await asyncio.wait_for(
                        _exchange(reader, writer, raws[index % len(raws)]), timeout=10
                    )
                except (OSError, asyncio.IncompleteReadError, ValueError, TimeoutError):
                    errors += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, int(port))
                    continue
                latencies.append(loop.time() - due)
                if status != 200:
                    errors += 1
                if close:
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, int(port))
                if loop.time() > deadline + 10:  # far behind: stop, count the rest as late
                    return
        finally:
            writer.close()

    cpu = time.process_time()
    await asyncio.gather(*(connection() for _ in range(connections)))
    elapsed = loop.time() - start
    cpu = time.process_time() - cpu
    latencies.sort()
    count = len(latencies)
    return {
        "offered": total,
        "requests": count,
        "rps": count / elapsed,
        "unsent": total - count - errors,
        "p50_ms": 1000 * latencies[count // 2] if count else float("inf"),
        "p99_ms": 1000 * latencies[min(count - 1, int(count * 0.99))] if count else float("inf"),
        "max_ms": 1000 * latencies[-1] if count else float("inf"),
        "errors": errors,
        "client_cpu": cpu,
    }


def open_loop(
    url: str, raws: list[bytes], rate: float, seconds: float, connections: int
) -> dict[str, Any]:
    """``rate`` requests/s over ``connections`` for ``seconds``, latency from each due time."""
    try:
        import uvloop

        runner: Any = uvloop.run
    except ImportError:
        runner = asyncio.run
    return runner(_open_loop(url, raws, rate, seconds, connections))  # type: ignore[no-any-return]
