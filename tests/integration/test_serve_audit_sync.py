"""``broker serve --audit-sync interval`` through boto3: every answered call is in the log when
its answer arrives, and after the service stops the head covers every event."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from tests.integration.conftest import start_server, stop_server

pytestmark = pytest.mark.integration
ACCOUNT = "111122223333"


def test_interval_sync_answers_after_the_write_and_syncs_on_exit(tmp_path: Path) -> None:
    process, server = start_server(tmp_path / "home", extra_args=("--audit-sync", "interval"))
    try:
        created = server.cli("access-keys", "create", "svc-sync", "--account", ACCOUNT, "--json")
        assert created.returncode == 0, created.stderr
        key = json.loads(created.stdout)["AccessKey"]
        client = boto3.client(
            "sts",
            endpoint_url=server.url,
            region_name="us-east-1",
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
            config=Config(retries={"max_attempts": 1}),
        )
        log = server.home / "audit" / "audit.jsonl"
        for _ in range(10):
            before = len(log.read_bytes().splitlines()) if log.exists() else 0
            client.get_caller_identity()
            lines = log.read_bytes().splitlines()
            assert len(lines) == before + 1  # written before the answer left
            assert json.loads(lines[-1])["eventName"] == "GetCallerIdentity"
    finally:
        stop_server(process)
    events = len(log.read_bytes().splitlines())
    head = json.loads((server.home / "audit" / "audit.jsonl.head").read_bytes())
    assert head["events"] == events  # the last sync ran as the service stopped
    verified = server.cli("audit", "verify")
    assert verified.returncode == 0 and f"{events} events" in verified.stdout
