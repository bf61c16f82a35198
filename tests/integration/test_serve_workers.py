"""``broker serve --workers 2``: the workers get their options from the serve command as
arguments (no environment hand-off), serve through the real AWS SDK, a worker that dies is
replaced, SIGTERM stops every worker, and a worker that cannot start stops the service with
one line and a non-zero status."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.integration.conftest import (
    CONFIG,
    REPO,
    BrokerServer,
    free_port,
    start_server,
    stop_server,
)

pytestmark = pytest.mark.integration
ACCOUNT = "111122223333"
WAIT = 30.0


def _workers(parent: int) -> set[int]:
    """The spawned worker processes of ``parent`` (not multiprocessing's helper processes)."""
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    found = set()
    for child in children:
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if b"spawn_main" in command:
            found.add(int(child))
    return found


def _until(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    """Poll ``condition`` (process state, not a time window) until true or ``WAIT`` passes."""
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _client(server: BrokerServer, key: dict[str, str], region: str):  # type: ignore[no-untyped-def]
    return boto3.client(
        "sts",
        endpoint_url=server.url,
        region_name=region,
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        config=Config(retries={"max_attempts": 1}),
    )


def test_two_workers_serve_with_the_command_options_and_survive_a_death(tmp_path: Path) -> None:
    process, server = start_server(
        tmp_path / "home", extra_args=("--workers", "2", "--region", "eu-west-1")
    )
    try:
        _until(lambda: len(_workers(process.pid)) == 2, "two workers")
        created = server.cli("access-keys", "create", "svc-workers", "--account", ACCOUNT, "--json")
        assert created.returncode == 0, created.stderr
        key = json.loads(created.stdout)["AccessKey"]
        for _ in range(6):  # fresh clients, fresh connections: both workers answer
            identity = _client(server, key, "eu-west-1").get_caller_identity()
            assert identity["Account"] == ACCOUNT
            with pytest.raises(ClientError):  # --region reached every worker
                _client(server, key, "us-east-1").get_caller_identity()

        first = _workers(process.pid)
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        _until(
            lambda: len(_workers(process.pid)) == 2 and victim not in _workers(process.pid),
            "the dead worker's replacement",
        )
        assert process.poll() is None
        identity = _client(server, key, "eu-west-1").get_caller_identity()
        assert identity["Account"] == ACCOUNT
        workers = _workers(process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            returncode = process.wait(timeout=WAIT)
        finally:
            stop_server(process)
    assert returncode == 0
    for worker in workers:  # every worker stopped with the parent
        assert (
            not Path(f"/proc/{worker}").exists()
            or b"spawn_main" not in Path(f"/proc/{worker}/cmdline").read_bytes()
        )


def test_a_worker_that_cannot_start_stops_the_service(tmp_path: Path) -> None:
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    (config / "directory" / "users.toml").write_text("[[user]]\nname = 'x'\nbogus = = 1\n")
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    env = dict(
        os.environ,
        BROKER_HOME=str(home),
        BROKER_CONFIG=str(config),
        PYTHONPATH=os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]),
    )
    finished = subprocess.run(
        [sys.executable, "-m", "broker", "serve", "--port", str(free_port()), "--workers", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT * 2,
        stdin=subprocess.DEVNULL,
    )
    assert finished.returncode != 0
    assert "a worker could not start" in finished.stderr
    assert "Traceback" not in finished.stderr
