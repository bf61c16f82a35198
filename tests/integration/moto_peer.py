"""moto's server as the upstream AWS STS, on loopback, with IAM authorization enforced.

The server runs in its own process (moto's authorization switch is process-global). The first
three calls create the broker's upstream IAM user, its policy and access key without
authorization; from then on moto checks every request's signature and the user's policy, so
a refusal in these tests is AWS's own ``AccessDenied`` or ``InvalidClientTokenId``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.processes import free_port, stop

UPSTREAM_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
            "Resource": "arn:aws:iam::111122223333:role/Allowed*",
        },
        {"Effect": "Allow", "Action": "sts:GetFederationToken", "Resource": "*"},
    ],
}


@dataclass(frozen=True)
class MotoPeer:
    url: str
    access_key_id: str
    secret_access_key: str

    def credentials_file(self, directory: Path, profile: str) -> Path:
        """An AWS shared credentials file holding the upstream user under ``profile``."""
        path = directory / "aws-credentials"
        path.write_text(
            f"[{profile}]\naws_access_key_id = {self.access_key_id}\n"
            f"aws_secret_access_key = {self.secret_access_key}\n"
        )
        path.chmod(0o600)
        return path


def _start_moto() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{url}/moto-api/", timeout=1)
            return process, url
        except httpx.HTTPError:
            if time.monotonic() > deadline or process.poll() is not None:
                stop(process)
                pytest.fail("moto's server did not start on loopback within 30 s")
            time.sleep(0.1)


@pytest.fixture(scope="session")
def moto_federation() -> Iterator[str]:
    """A second moto server, *without* moto's authorization switch, for AssumeRoleWithSAML
    and AssumeRoleWithWebIdentity: AWS takes those unsigned (the assertion or token is the
    proof), but moto's enforced mode requires a signature on every call and fails on them."""
    process, url = _start_moto()
    try:
        yield url
    finally:
        stop(process)


@pytest.fixture(scope="session")
def moto_peer() -> Iterator[MotoPeer]:
    import botocore.session

    process, url = _start_moto()
    try:
        httpx.post(f"{url}/moto-api/reset-auth", content=b"3", timeout=5).raise_for_status()
        iam = botocore.session.Session().create_client(
            "iam",
            region_name="us-east-1",
            endpoint_url=url,
            aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
            aws_secret_access_key="bootstrap-" + "0" * 30,
        )
        iam.create_user(UserName="broker-upstream")
        iam.put_user_policy(
            UserName="broker-upstream",
            PolicyName="broker-upstream",
            PolicyDocument=json.dumps(UPSTREAM_POLICY),
        )
        key = iam.create_access_key(UserName="broker-upstream")["AccessKey"]
        yield MotoPeer(url, key["AccessKeyId"], key["SecretAccessKey"])
    finally:
        stop(process)


@pytest.fixture
def upstream_profile(
    moto_peer: MotoPeer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The broker's upstream credentials as a named profile of the standard AWS chain."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config-absent"))
    path = moto_peer.credentials_file(tmp_path, "broker-upstream")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(path))
    yield "broker-upstream"
