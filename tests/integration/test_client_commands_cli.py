"""``env``, ``exec``, ``serve-credentials`` and ``configure aws`` as whole processes, from a
cache seeded in the real Secret Service (no minter needed while credentials are fresh)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from broker.minters.base import Credentials
from broker.store.credential_store import CredentialStore
from tests.client_support import write_config
from tests.conftest import REPO

pytestmark = [pytest.mark.keyring, pytest.mark.integration]


@pytest.fixture
def seeded(secret_service: None, broker_home: Path, tmp_path: Path, monkeypatch) -> Credentials:
    monkeypatch.setenv("BROKER_CONFIG", str(write_config(tmp_path / "config")))
    credentials = Credentials(
        access_key_id="BKIACOMMANDS00000001",
        secret_access_key="c" * 40,
        session_token="commands-token",
        expiration=(datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0),
    )
    CredentialStore(broker_home).save_credentials(
        "dev", provider="corp", account="111122223333", role="Developer", credentials=credentials
    )
    return credentials


def test_env_json(seeded: Credentials, run_broker) -> None:
    result = run_broker("env", "dev", "--format", "json")
    assert result.returncode == 0, result.stderr
    env = json.loads(result.stdout)
    assert env["AWS_ACCESS_KEY_ID"] == seeded.access_key_id
    assert env["AWS_REGION"] == "eu-west-1"


def test_exec_runs_the_command_with_credentials_and_passes_its_status(
    seeded: Credentials, run_broker
) -> None:
    code = "import os, sys; print(os.environ['AWS_SESSION_TOKEN']); sys.exit(3)"
    result = run_broker("exec", "dev", "--", sys.executable, "-c", code)
    assert result.returncode == 3
    assert result.stdout.strip() == "commands-token"


def _serve_credentials(*args: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """Start ``broker serve-credentials ARGS --format json``; return it and its exports."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "broker", "serve-credentials", *args, "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    while not lines or lines[-1].strip() != "}":
        line = proc.stdout.readline()
        if not line:
            proc.kill()
            raise AssertionError(proc.stderr.read() if proc.stderr else "no output")
        lines.append(line)
    exports: dict[str, str] = json.loads("".join(lines))
    return proc, exports


def test_serve_credentials_feeds_botocore(seeded: Credentials, broker_home: Path) -> None:
    from botocore.credentials import ContainerProvider

    proc, exports = _serve_credentials("dev")
    try:
        assert exports["AWS_CONTAINER_CREDENTIALS_FULL_URI"].startswith("http://127.0.0.1:")
        creds = ContainerProvider(environ=exports).load().get_frozen_credentials()
        assert creds.access_key == seeded.access_key_id
        assert creds.secret_key == seeded.secret_access_key
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert "serving credentials on 127.0.0.1" in err
    assert seeded.secret_access_key not in err


def test_configure_aws_writes_the_managed_block(
    seeded: Credentials, tmp_path: Path, run_broker
) -> None:
    aws_config = tmp_path / "aws-config"
    aws_config.write_text("[profile mine]\nregion = us-east-1\n")
    result = run_broker(
        "configure", "aws", "--command-path", "broker", env={"AWS_CONFIG_FILE": str(aws_config)}
    )
    assert result.returncode == 0, result.stderr
    text = aws_config.read_text()
    assert text.startswith("[profile mine]\nregion = us-east-1\n")
    assert "[profile dev]\ncredential_process = broker credential-process --profile dev\n" in text
    assert "[profile ops]" in text
    assert "wrote profile dev" in result.stderr


def test_boto3_and_the_aws_cli_use_the_written_profile(
    seeded: Credentials, tmp_path: Path, run_broker, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws_config = tmp_path / "aws-config"
    command = f"{sys.executable} -m broker"
    result = run_broker(
        "configure", "aws", "--command-path", command, env={"AWS_CONFIG_FILE": str(aws_config)}
    )
    assert result.returncode == 0, result.stderr
    env = {
        **os.environ,
        "AWS_CONFIG_FILE": str(aws_config),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "PYTHONPATH": str(REPO),
    }
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        env.pop(name, None)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    import boto3

    frozen = boto3.Session(profile_name="dev").get_credentials().get_frozen_credentials()
    assert (frozen.access_key, frozen.secret_key, frozen.token) == (
        seeded.access_key_id,
        seeded.secret_access_key,
        seeded.session_token,
    )
    aws = Path(sys.executable).parent / "aws"
    listed = subprocess.run(
        [str(aws), "configure", "list", "--profile", "dev"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    assert "custom-process" in listed.stdout
    assert seeded.access_key_id[-4:] in listed.stdout


def test_refresh_once_leaves_fresh_profiles_alone(seeded: Credentials, run_broker) -> None:
    result = run_broker("refresh")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""


def test_logout_forgets_locally_even_when_the_provider_cannot_be_built(
    seeded: Credentials, broker_home: Path, tmp_path: Path, run_broker
) -> None:
    from broker.signin import LoginInput, run_login
    from providers.testing import SilentUI
    from tests.client_support import TestIdP

    extra = '\n[providers.legacy]\ntype = "kerberos"\n'  # a type nobody installed
    config = write_config(tmp_path / "config-legacy", extra)
    store = CredentialStore(broker_home)
    idp = TestIdP(name="legacy")
    run_login(LoginInput(provider="legacy"), store=store, build=lambda _n: idp, ui=SilentUI())
    store.save_credentials(
        "dev", provider="legacy", account="111122223333", role="Developer", credentials=seeded
    )
    result = run_broker("logout", "legacy", env={"BROKER_CONFIG": str(config)})
    assert result.returncode == 0, result.stderr
    assert "unknown provider type 'kerberos'" in result.stderr
    assert "forgetting locally" in result.stderr
    assert "Signed out of legacy and forgot 1 profile(s)." in result.stderr
    assert store.session("legacy") is None and store.credentials("dev") is None


def test_refresh_watch_stops_a_profile_says_so_and_ends_on_sigterm(
    seeded: Credentials, broker_home: Path
) -> None:
    expired = Credentials(
        seeded.access_key_id,
        seeded.secret_access_key,
        seeded.session_token,
        datetime.now(UTC) - timedelta(minutes=1),
    )
    CredentialStore(broker_home).save_credentials(
        "dev", provider="corp", account="111122223333", role="Developer", credentials=expired
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "broker", "refresh", "--watch"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    try:
        assert proc.stderr is not None
        lines = [proc.stderr.readline(), proc.stderr.readline()]
    finally:
        proc.terminate()
        try:
            out, rest = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            # Reap it and close its pipes before failing, so no later test trips over them.
            proc.kill()
            proc.communicate(timeout=10)
            raise
    assert "dev: stopped refreshing: not signed in to corp" in lines[0]
    assert "run `broker login corp`" in lines[0]
    assert "waiting for `broker login`" in lines[1]
    assert proc.returncode == 0, rest
    assert out == ""


def _other_user_curl(*args: str) -> subprocess.CompletedProcess[str]:
    """``curl`` run as ``nobody``: a second real Unix user of this machine."""
    return subprocess.run(
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "curl", "-s", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="switching to a second user needs root")
def test_serve_credentials_imds_serves_only_the_user_who_started_it(
    seeded: Credentials, broker_home: Path
) -> None:
    proc, exports = _serve_credentials("dev", "--imds")
    try:
        assert proc.stderr is not None
        base = exports["AWS_EC2_METADATA_SERVICE_ENDPOINT"]
        ttl = "X-aws-ec2-metadata-token-ttl-seconds: 60"
        put = ("-X", "PUT", "-H", ttl, "-w", "\n%{http_code}", f"{base}latest/api/token")

        other = _other_user_curl(*put)
        assert other.stdout.splitlines()[-1] == "403", other
        assert "only the user who started it" in other.stdout
        told = [proc.stderr.readline(), proc.stderr.readline()]
        assert "refused an IMDS request from another user (uid 65534)" in told[1], told

        from botocore.utils import InstanceMetadataFetcher

        fetcher = InstanceMetadataFetcher(timeout=5, num_attempts=1, base_url=base, config={})
        creds = fetcher.retrieve_iam_role_credentials()
        assert creds["access_key"] == seeded.access_key_id

        # A token the owner got is no use to the other user either.
        token = subprocess.run(
            ["curl", "-s", *put[:-3], f"{base}latest/api/token"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
        path = f"{base}latest/meta-data/iam/security-credentials/dev"
        header = f"X-aws-ec2-metadata-token: {token}"
        stolen = _other_user_curl("-H", header, "-w", "\n%{http_code}", path)
        assert stolen.stdout.splitlines()[-1] == "403", stolen
        assert seeded.secret_access_key not in stolen.stdout
    finally:
        proc.terminate()
        proc.communicate(timeout=20)
