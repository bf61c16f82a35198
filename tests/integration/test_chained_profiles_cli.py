"""Chained and MFA profiles through the real CLI against ``broker serve``: alice signs in to
the demo IdP, her assignment profile is the source, and ``[profiles.NAME] source_profile`` +
``role_arn`` assume a role with that session (capped at 1 hour); an ``mfa_serial`` profile asks
for a TOTP code on the terminal (a real pseudo-terminal here) and, without a terminal, refuses
in one line while serving what a terminal session cached."""

from __future__ import annotations

import fcntl
import json
import os
import re
import selectors
import shutil
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest

from tests.conftest import CONFIG, REPO, one_line
from tests.integration.conftest import BrokerServer, start_server, stop_server
from tests.totp_codes import UnusedCodes

pytestmark = [pytest.mark.keyring, pytest.mark.integration]

AWS = Path(sys.executable).with_name("aws")
COMMAND = f"{sys.executable} -m broker"
BROKER = [sys.executable, "-m", "broker"]
SOURCE = "payments-prod.AdministratorAccess"
ACCOUNT = "444444444444"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": ["sts:AssumeRole", "sts:TagSession"],
        }
    ],
}
ROLES = """
[[roles]]
account = "payments-prod"
name = "chain-audit"
description = "Assumed from alice's administrator session (role chaining)"
trust_policy = "trust-chain-audit"
policies = ["ReadOnlyAccess"]
max_session_duration = 43200

[[roles]]
account = "payments-prod"
name = "chain-audit-mfa"
description = "The same, only with a fresh MFA code"
trust_policy = "trust-chain-audit-mfa"
policies = ["ReadOnlyAccess"]
max_session_duration = 3600
"""


def _profiles(url: str) -> str:
    return (
        f'\n[profiles.audit]\nsource_profile = "{SOURCE}"\n'
        f'role_arn = "arn:aws:iam::{ACCOUNT}:role/chain-audit"\nendpoint_url = "{url}"\n'
        f'\n[profiles.audit-mfa]\nsource_profile = "{SOURCE}"\n'
        f'role_arn = "arn:aws:iam::{ACCOUNT}:role/chain-audit-mfa"\nendpoint_url = "{url}"\n'
        f'mfa_serial = "arn:aws:iam::{ACCOUNT}:mfa/alice"\n'
    )


@pytest.fixture
def served(
    secret_service: None, broker_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[BrokerServer]:
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    mfa_trust = json.loads(json.dumps(TRUST))
    mfa_trust["Statement"][0]["Condition"] = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    (config / "policies" / "trust-chain-audit.json").write_text(json.dumps(TRUST))
    (config / "policies" / "trust-chain-audit-mfa.json").write_text(json.dumps(mfa_trust))
    with (config / "directory" / "roles.toml").open("a") as roles:
        roles.write(ROLES)
    monkeypatch.setenv("BROKER_CONFIG", str(config))
    process, server = start_server(broker_home, config)
    try:
        with (config / "broker.toml").open("a") as toml:
            toml.write(_profiles(server.url))
        yield server
    finally:
        stop_server(process)


def _sign_in(run_broker, tmp_path: Path) -> None:
    login = run_broker("login", "demo", "--user-hint", "alice")
    assert login.returncode == 0, login.stderr
    configured = run_broker(
        "configure", "aws", "--file", str(tmp_path / "aws-config"), "--command-path", COMMAND
    )
    assert configured.returncode == 0, configured.stderr


def _caller(run_broker, server: BrokerServer, profile: str, *extra: str):
    return run_broker(
        "exec", profile, *extra, "--region", "us-east-1", "--",
        str(AWS), "sts", "get-caller-identity", "--endpoint-url", server.url, "--output", "json",
    )  # fmt: skip


def test_a_chained_profile_assumes_the_role_with_its_sources_session(
    served: BrokerServer, tmp_path: Path, run_broker
) -> None:
    _sign_in(run_broker, tmp_path)
    who = _caller(run_broker, served, "audit")
    assert who.returncode == 0, who.stderr
    arn = json.loads(who.stdout)["Arn"]
    assert arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/chain-audit/alice@example.com"
    shown = run_broker("env", "audit", "--format", "json")
    expiry = json.loads(shown.stdout)["AWS_CREDENTIAL_EXPIRATION"]
    left = datetime.strptime(expiry, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) - datetime.now(UTC)
    assert timedelta(minutes=50) < left <= timedelta(hours=1)
    listed = {r["profile"]: r for r in json.loads(run_broker("sessions", "--json").stdout)}
    assert listed["audit"]["minter"] == "chained" and listed["audit"]["role"] == "chain-audit"
    assert SOURCE in listed  # the source was minted (and cached) on the way
    # The 1-hour chaining cap: refused in one line before anything is sent.
    longer = _caller(run_broker, served, "audit", "--duration", "2h")
    assert longer.returncode == 2 and longer.stdout == ""
    assert "caps such sessions at 1 hour" in one_line(longer.stderr)


def test_a_chained_profile_longer_than_an_hour_is_a_config_error(
    served: BrokerServer, run_broker
) -> None:
    toml = Path(os.environ["BROKER_CONFIG"]) / "broker.toml"
    toml.write_text(
        toml.read_text().replace('role/chain-audit"\n', 'role/chain-audit"\nduration = 7200\n', 1)
    )
    result = run_broker("config", "validate")
    assert result.returncode == 1
    assert "profiles.audit.duration" in result.stdout + result.stderr
    assert "role-chaining cap" in result.stdout + result.stderr


def _in_terminal(argv: list[str], answer: str) -> tuple[int, str]:
    """Run ``argv`` with a pseudo-terminal as its controlling terminal; type ``answer`` at the
    MFA prompt; return the exit status and everything it wrote."""
    master, slave = os.openpty()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        argv,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
    )
    os.close(slave)
    output = b""
    selector = selectors.DefaultSelector()
    selector.register(master, selectors.EVENT_READ)
    deadline = time.monotonic() + 120
    answered = False
    while time.monotonic() < deadline:
        if not selector.select(timeout=1):
            continue
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
        if not answered and b"MFA code for" in output:
            os.write(master, answer.encode() + b"\n")
            answered = True
    os.close(master)
    return proc.wait(timeout=60), output.decode("utf-8", "replace").replace("\r\n", "\n")


def _without_terminal(*args: str) -> subprocess.CompletedProcess[str]:
    """``broker ARGS`` in a new session: no controlling terminal, as an IDE or cron runs it."""
    return subprocess.run(
        [*BROKER, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        start_new_session=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def test_an_mfa_profile_asks_on_the_terminal_and_never_without_one(
    served: BrokerServer, tmp_path: Path, run_broker
) -> None:
    _sign_in(run_broker, tmp_path)
    enabled = run_broker("access-keys", "mfa-enable", "alice", "--account", ACCOUNT)
    assert enabled.returncode == 0, enabled.stderr
    serial, uri = enabled.stdout.strip().split("\t")
    assert serial == f"arn:aws:iam::{ACCOUNT}:mfa/alice"

    # No terminal (a new session, as an IDE or cron runs it): one line, nothing minted.
    headless = _without_terminal("credential-process", "--profile", "audit-mfa")
    assert headless.returncode != 0 and headless.stdout == ""
    line = one_line(headless.stderr)
    assert "needs an MFA code and there is no terminal" in line
    assert "broker exec audit-mfa" in line

    # A wrong code: the STS refuses (one line), after the prompt.
    codes = UnusedCodes(pyotp.parse_uri(uri))
    code = pyotp.parse_uri(uri).now()
    wrong = f"{(int(code) + 500_000) % 1_000_000:06d}"
    status, said = _in_terminal(
        [sys.executable, "-m", "broker", "exec", "audit-mfa", "--", sys.executable, "-c", "pass"],
        wrong,
    )
    assert status == 7, said
    assert (
        "AccessDenied" in said and wrong not in said.split("MFA code for", 1)[1].split("\n", 1)[1]
    )

    # The right code at the terminal: the role is assumed, and the AWS CLI runs with it.
    call = ["get-caller-identity", "--endpoint-url", served.url, "--output", "json"]
    status, said = _in_terminal(
        [*BROKER, "exec", "audit-mfa", "--region", "us-east-1", "--", str(AWS), "sts", *call],
        codes.next(),
    )
    assert status == 0, said
    assert f"MFA code for {serial} (profile audit-mfa):" in said
    assert re.search(r'"Arn": "arn:aws:sts::444444444444:assumed-role/chain-audit-mfa/', said)

    # Now cached: credential-process without a terminal serves it, no code asked.
    served_again = _without_terminal("credential-process", "--profile", "audit-mfa")
    assert served_again.returncode == 0, served_again.stderr
    assert json.loads(served_again.stdout)["AccessKeyId"]


def test_the_terminal_app_asks_for_the_code_when_it_refreshes_an_mfa_profile(
    served: BrokerServer, tmp_path: Path, run_broker, broker_home: Path
) -> None:
    """The real ``broker`` in tmux: Sessions, the MFA profile, ``r``, the dialog asks for the
    code, a person types it, the STS (MFA required by the role's trust) mints anew."""
    from broker.store.credential_store import CredentialStore
    from broker.tui.state import TuiState, save_state
    from tests.integration import provider_setup_support as support

    _sign_in(run_broker, tmp_path)
    enabled = run_broker("access-keys", "mfa-enable", "alice", "--account", ACCOUNT)
    assert enabled.returncode == 0, enabled.stderr
    codes = UnusedCodes(pyotp.parse_uri(enabled.stdout.strip().split("\t")[1]))
    status, said = _in_terminal(
        [*BROKER, "exec", "audit-mfa", "--", sys.executable, "-c", "pass"], codes.next()
    )
    assert status == 0, said
    first = CredentialStore(broker_home).credentials("audit-mfa")
    assert first is not None
    save_state(broker_home, TuiState(welcome_seen=True))
    env = {"BROKER_HOME": str(broker_home), "BROKER_CONFIG": os.environ["BROKER_CONFIG"]}
    with support.broker_in_tmux(env) as tmux:
        tmux.wait_for("alice@example.com", timeout=60)  # signed in from the stored session
        support.at_a_persons_pace(tmux, ":", "sessions", "Enter")
        shown = tmux.wait_for("audit-mfa", timeout=30)
        rows = [line for line in shown.splitlines() if "(4444 4444 4444)" in line]
        assert any("audit-mfa" in line for line in rows), shown
        position = next(i for i, line in enumerate(rows) if "audit-mfa" in line)
        support.at_a_persons_pace(tmux, "", *["Down"] * position, "r")
        tmux.wait_for("MFA code for arn:aws:iam::444444444444:mfa/alice", timeout=60)
        support.at_a_persons_pace(tmux, codes.next(), "Enter")  # one the STS has not seen
        tmux.wait_for("Refreshed audit-mfa", timeout=60)
        support.at_a_persons_pace(tmux, "", "C-q")
        shown = tmux.wait_for("EXITED=")
        assert "EXITED=0" in shown and "Traceback" not in shown
    again = CredentialStore(broker_home).credentials("audit-mfa")
    assert again is not None and again.access_key_id != first.access_key_id
