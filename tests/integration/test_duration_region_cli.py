"""``--duration`` and ``--region`` on ``exec``, ``env`` and ``credential-process``, through the
real CLI: the demo IdP signs alice in, the local minter mints, the AWS CLI calls ``broker
serve`` with what ``exec`` exported, and the audit log shows each mint."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import one_line
from tests.integration.conftest import BrokerServer, start_server, stop_server

pytestmark = [pytest.mark.keyring, pytest.mark.integration]

AWS = Path(sys.executable).with_name("aws")
COMMAND = f"{sys.executable} -m broker"
PROFILE = "payments-prod.AdministratorAccess"  # permission set of at most 4 hours
SHOW = "import os; print(os.environ['AWS_CREDENTIAL_EXPIRATION'], os.environ.get('AWS_REGION'))"


@pytest.fixture
def alice(
    secret_service: None, broker_home: Path, tmp_path: Path, run_broker
) -> Iterator[BrokerServer]:
    process, server = start_server(broker_home)
    try:
        login = run_broker("login", "demo", "--user-hint", "alice")
        assert login.returncode == 0, login.stderr
        configured = run_broker(
            "configure", "aws", "--file", str(tmp_path / "aws-config"), "--command-path", COMMAND
        )
        assert configured.returncode == 0, configured.stderr
        yield server
    finally:
        stop_server(process)


def _minutes_left(stamp: str) -> float:
    expiry = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return (expiry - datetime.now(UTC)).total_seconds() / 60


def _mints(run_broker) -> int:
    queried = run_broker("audit", "query", "--event", "AssumeRoleWithSAML")
    assert queried.returncode == 0, queried.stderr
    return len([line for line in queried.stdout.splitlines() if "AdministratorAccess" in line])


def test_exec_duration_and_region_reach_the_command_and_the_aws_cli(
    alice: BrokerServer, run_broker
) -> None:
    shown = run_broker(
        "exec", PROFILE, "--duration", "2h", "--region", "ap-southeast-2", "--",
        sys.executable, "-c", SHOW,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    stamp, region = shown.stdout.split()
    assert 115 < _minutes_left(stamp) <= 120
    assert region == "ap-southeast-2"
    assert _mints(run_broker) == 1
    # The same duration again is served from the cache, to the real AWS CLI.
    called = run_broker(
        "exec", PROFILE, "--duration", "120m", "--region", "eu-west-1", "--",
        str(AWS), "sts", "get-caller-identity", "--endpoint-url", alice.url, "--output", "json",
    )  # fmt: skip
    assert called.returncode == 0, called.stderr
    assert json.loads(called.stdout)["Arn"].endswith("/alice@example.com")
    assert _mints(run_broker) == 1
    # Another duration mints anew; env and credential-process take it too.
    env = run_broker("env", PROFILE, "--duration", "90m", "--format", "json")
    assert env.returncode == 0, env.stderr
    assert 85 < _minutes_left(json.loads(env.stdout)["AWS_CREDENTIAL_EXPIRATION"]) <= 90
    process = run_broker("credential-process", "--profile", PROFILE, "--duration", "1h")
    assert process.returncode == 0, process.stderr
    assert 55 < _minutes_left(json.loads(process.stdout)["Expiration"]) <= 60
    assert _mints(run_broker) == 3


def test_a_duration_past_the_roles_maximum_is_refused_in_one_line(
    alice: BrokerServer, run_broker
) -> None:
    result = run_broker("exec", PROFILE, "--duration", "5h", "--", sys.executable, "-c", "pass")
    assert result.returncode != 0 and result.stdout == ""
    line = one_line(result.stderr)
    # The minter's refusal (its wording is the minter's): one line about the duration.
    assert line.startswith("broker: error:") and "duration" in line.lower(), line


@pytest.mark.parametrize(
    ("given", "fragment"),
    [
        ("37h", "15 minutes to 36 hours"),
        ("10m", "15 minutes to 36 hours"),
        ("soon", "not a duration"),
        ("1h-5m", "not a duration"),
    ],
)
def test_a_duration_out_of_sts_range_is_refused_before_anything(
    secret_service: None, broker_home: Path, run_broker, given: str, fragment: str
) -> None:
    for argv in (
        ("exec", PROFILE, "--duration", given, "--", sys.executable, "-c", "pass"),
        ("env", PROFILE, "--duration", given),
        ("credential-process", "--profile", PROFILE, "--duration", given),
    ):
        result = run_broker(*argv)
        assert result.returncode == 2 and result.stdout == ""
        assert fragment in one_line(result.stderr)


def test_a_bad_region_is_refused(secret_service: None, broker_home: Path, run_broker) -> None:
    result = run_broker("env", PROFILE, "--region", "Mars")
    assert result.returncode == 2
    assert "not a region name" in one_line(result.stderr)
