"""The Identity Center fake is honest: botocore's own clients, SSO token provider and SSO
credential provider (and boto3 with an ``sso-session`` profile, in its own process) work
against it exactly as they would against AWS, through ``AWS_ENDPOINT_URL_SSO`` and
``AWS_ENDPOINT_URL_SSO_OIDC``. If the fake's wire format drifted from botocore's models, these
fail before any broker test could pass against a fake that only agrees with the broker."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import botocore.config
import botocore.credentials
import botocore.exceptions
import botocore.session
import botocore.tokens
import botocore.utils
import httpx
import pytest
from botocore import UNSIGNED

from tests.conftest import REPO
from tests.integration.sso_peer import (
    START_URL,
    IdentityCenterFake,
    RunningFake,
    running_fake,
    sample_directory,
)

pytestmark = pytest.mark.integration

SESSION = "corp"
REGION = "eu-west-1"


@pytest.fixture
def peer() -> Iterator[RunningFake]:
    yield from running_fake(IdentityCenterFake(directory=sample_directory()))


@pytest.fixture
def aws_env(peer: RunningFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """An AWS config with an ``sso-session`` and a profile using it; endpoints at the fake."""
    config = tmp_path / "aws-config"
    config.write_text(
        f"[sso-session {SESSION}]\nsso_start_url = {START_URL}\nsso_region = {REGION}\n"
        "sso_registration_scopes = sso:account:access\n\n"
        f"[profile dev]\nsso_session = {SESSION}\nsso_account_id = 111122223333\n"
        f"sso_role_name = Developer\nregion = {REGION}\n"
    )
    env = {
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_ENDPOINT_URL_SSO": peer.url,
        "AWS_ENDPOINT_URL_SSO_OIDC": peer.url,
    }
    for name in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def _client(service: str) -> Any:
    session = botocore.session.Session()
    return session.create_client(
        service, region_name=REGION, config=botocore.config.Config(signature_version=UNSIGNED)
    )


def _device_sign_in(peer: RunningFake, user: str = "casey") -> dict[str, Any]:
    """What ``aws sso login`` does: register, start, poll (pending until approved), token."""
    oidc = _client("sso-oidc")
    client = oidc.register_client(
        clientName="botocore-test", clientType="public", scopes=["sso:account:access"]
    )
    device = oidc.start_device_authorization(
        clientId=client["clientId"], clientSecret=client["clientSecret"], startUrl=START_URL
    )
    assert device["verificationUriComplete"].endswith(device["userCode"])
    poll = {
        "clientId": client["clientId"],
        "clientSecret": client["clientSecret"],
        "grantType": "urn:ietf:params:oauth:grant-type:device_code",
        "deviceCode": device["deviceCode"],
    }
    with pytest.raises(oidc.exceptions.AuthorizationPendingException):
        oidc.create_token(**poll)
    peer.fake.slow_down(1)
    httpx.post(
        f"{peer.url}/_fake/approve", json={"user_code": device["userCode"], "user": user}
    ).raise_for_status()
    with pytest.raises(oidc.exceptions.SlowDownException):
        oidc.create_token(**poll)
    token = oidc.create_token(**poll)
    assert token["tokenType"] == "Bearer" and token["refreshToken"]
    with pytest.raises(oidc.exceptions.InvalidGrantException):  # a device code is used once
        oidc.create_token(**poll)
    expires = datetime.now(UTC) + timedelta(seconds=token["expiresIn"])
    return {
        "startUrl": START_URL,
        "region": REGION,
        "accessToken": token["accessToken"],
        "expiresAt": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "refreshToken": token["refreshToken"],
        "clientId": client["clientId"],
        "clientSecret": client["clientSecret"],
        "registrationExpiresAt": datetime.fromtimestamp(
            client["clientSecretExpiresAt"], UTC
        ).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _cached(token: dict[str, Any], tmp_path: Path) -> botocore.utils.JSONFileCache:
    """A token cache (as ``aws sso login`` leaves it) holding ``token`` for the session."""
    cache = botocore.utils.JSONFileCache(str(tmp_path / "sso-cache"))
    botocore.utils.SSOTokenLoader(cache).save_token(START_URL, token, session_name=SESSION)
    return cache


def test_token_provider_loads_and_refreshes_through_the_fake(
    peer: RunningFake, aws_env: dict[str, str], tmp_path: Path
) -> None:
    token = _device_sign_in(peer)
    cache = _cached(token, tmp_path)
    session = botocore.session.Session(profile="dev")

    loaded = botocore.tokens.SSOTokenProvider(session, cache=cache).load_token()
    assert loaded.get_frozen_token().token == token["accessToken"]

    # Inside botocore's refresh window: it refreshes with the refresh token (grant refresh_token).
    near = dict(token, expiresAt=(datetime.now(UTC) + timedelta(minutes=5)).isoformat())
    botocore.utils.SSOTokenLoader(cache).save_token(START_URL, near, session_name=SESSION)
    before = peer.fake.count("CreateToken")
    refreshed = botocore.tokens.SSOTokenProvider(session, cache=cache).load_token()
    assert refreshed.get_frozen_token().token != token["accessToken"]
    assert peer.fake.count("CreateToken") == before + 1
    saved = botocore.utils.SSOTokenLoader(cache)(START_URL, session_name=SESSION)
    assert saved["refreshToken"] != token["refreshToken"]  # rotated

    # The old refresh token was spent: a second use is refused; botocore keeps the old token.
    botocore.utils.SSOTokenLoader(cache).save_token(START_URL, near, session_name=SESSION)
    stale = botocore.tokens.SSOTokenProvider(session, cache=cache).load_token()
    assert stale.get_frozen_token().token == token["accessToken"]


def test_credential_provider_gets_role_credentials(
    peer: RunningFake, aws_env: dict[str, str], tmp_path: Path
) -> None:
    token = _device_sign_in(peer)
    cache = _cached(token, tmp_path)
    session = botocore.session.Session(profile="dev")
    provider = botocore.credentials.SSOProvider(
        load_config=lambda: session.full_config,
        client_creator=session.create_client,
        profile_name="dev",
        cache={},
        token_cache=cache,
        token_provider=botocore.tokens.SSOTokenProvider(session, cache=cache),
    )
    credentials = provider.load()
    frozen = credentials.get_frozen_credentials()
    assert frozen.access_key.startswith("ASIA") and frozen.token
    assert peer.fake.count("GetRoleCredentials") == 1


def test_boto3_session_with_an_sso_profile(
    peer: RunningFake, aws_env: dict[str, str], tmp_path: Path
) -> None:
    """boto3 in its own process, HOME in the test's directory, the token where ``aws sso
    login`` leaves it: the standard credential chain finds the profile and asks the fake."""
    token = _device_sign_in(peer)
    cache_dir = tmp_path / "home" / ".aws" / "sso" / "cache"
    cache_dir.mkdir(parents=True)
    key = hashlib.sha1(SESSION.encode()).hexdigest()
    (cache_dir / f"{key}.json").write_text(json.dumps(token))
    env = dict(os.environ, HOME=str(tmp_path / "home"), **aws_env)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])])
    script = (
        "import boto3;"
        "c = boto3.Session(profile_name='dev').get_credentials().get_frozen_credentials();"
        "print(c.access_key)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("ASIA")
    assert peer.fake.count("GetRoleCredentials") == 1


def test_portal_pages_and_errors_as_botocore_reads_them(
    peer: RunningFake, aws_env: dict[str, str]
) -> None:
    access = _device_sign_in(peer)["accessToken"]
    sso = _client("sso")
    accounts = [
        a
        for page in sso.get_paginator("list_accounts").paginate(accessToken=access)
        for a in page["accountList"]
    ]
    assert [a["accountName"] for a in accounts] == ["payments-dev", "payments-prod", "sandbox"]
    assert peer.fake.count("ListAccounts") == 2  # two accounts a page
    roles = [
        r["roleName"]
        for page in sso.get_paginator("list_account_roles").paginate(
            accessToken=access, accountId="444455556666"
        )
        for r in page["roleList"]
    ]
    assert roles == ["ReadOnly", "Admin", "Ops"]

    with pytest.raises(botocore.exceptions.ClientError) as forbidden:
        sso.get_role_credentials(accessToken=access, accountId="777788889999", roleName="Admin")
    assert forbidden.value.response["Error"]["Code"] == "ForbiddenException"
    assert forbidden.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

    peer.fake.expire_access_tokens()
    with pytest.raises(sso.exceptions.UnauthorizedException):
        sso.list_accounts(accessToken=access)


def test_throttling_is_retried_by_botocore(peer: RunningFake, aws_env: dict[str, str]) -> None:
    access = _device_sign_in(peer)["accessToken"]
    peer.fake.throttle(1)
    sso = _client("sso")
    answer = sso.get_role_credentials(
        accessToken=access, accountId="111122223333", roleName="ReadOnly"
    )
    assert answer["roleCredentials"]["expiration"] > 0
    assert peer.fake.count("GetRoleCredentials") == 2  # the 429, then the retry


def test_the_fake_refuses_what_the_model_does_not_allow(peer: RunningFake) -> None:
    """Unknown members, missing required ones, wrong types: InvalidRequestException."""
    no_token = httpx.get(f"{peer.url}/assignment/accounts")
    assert no_token.status_code == 400
    assert no_token.headers["x-amzn-errortype"] == "InvalidRequestException"
    unknown = httpx.get(
        f"{peer.url}/assignment/accounts",
        params={"surprise": "1"},
        headers={"x-amz-sso_bearer_token": "x"},
    )
    assert unknown.status_code == 400 and "surprise" in unknown.json()["message"]
    wrong_type = httpx.post(
        f"{peer.url}/client/register", json={"clientName": 5, "clientType": "public"}
    )
    assert wrong_type.status_code == 400 and wrong_type.json()["error"] == "invalid_request"
