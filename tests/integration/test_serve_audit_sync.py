"""``broker serve --audit-sync interval`` through boto3: every answered call is in the audit
chain when its answer arrives (committed, its fsync left to SQLite's checkpoints), and after
the service stops the chain verifies with every event."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from tests.integration.conftest import start_server, stop_server
from tests.state_support import audit_events

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
        for _ in range(10):
            before = len(audit_events(server.home))
            client.get_caller_identity()
            events = audit_events(server.home)
            assert len(events) == before + 1  # committed before the answer left
            assert events[-1]["eventName"] == "GetCallerIdentity"
    finally:
        stop_server(process)
    events = len(audit_events(server.home))
    verified = server.cli("audit", "verify")
    assert verified.returncode == 0 and f"{events} events" in verified.stdout
