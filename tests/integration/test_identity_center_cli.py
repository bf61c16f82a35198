"""IAM Identity Center end to end through real parts: ``broker login`` (a real process, the
device code approved by the test at the fake's approval endpoint), the real Secret Service,
``broker assignments --provider``, and the real AWS CLI using a ``credential_process`` profile
whose credentials Identity Center (the loopback fake) hands out — minted by moto's STS, so
``aws sts get-caller-identity`` against moto names the role. Then: an ended access token is
refreshed headlessly with the refresh token; a refused refresh, a revoked session and a role
not held each end in one line saying what to do, never a prompt."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import botocore.session
import httpx
import pytest

from tests.conftest import REPO
from tests.integration.moto_peer import MotoPeer
from tests.integration.sso_peer import (
    START_URL,
    IdentityCenterFake,
    RunningFake,
    running_fake,
    sample_directory,
)
from tests.integration.test_console_signin import (  # noqa: F401 (the fixture)
    CREDENTIALS,
    FederationFake,
    _url,
    federation,
)

pytestmark = [pytest.mark.keyring, pytest.mark.integration]

AWS = Path(sys.executable).with_name("aws")
ACCOUNT = "111122223333"


def _moto_minted(moto: MotoPeer) -> object:
    """Role credentials for the fake, from moto's STS (AssumeRole of ``Allowed<role>``)."""
    sts = botocore.session.Session().create_client(
        "sts",
        region_name="us-east-1",
        endpoint_url=moto.url,
        aws_access_key_id=moto.access_key_id,
        aws_secret_access_key=moto.secret_access_key,
    )

    def mint(user: str, account: str, role: str, lifetime: int) -> dict[str, str]:
        answer = sts.assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/Allowed{role}",
            RoleSessionName=user,
            DurationSeconds=lifetime,
        )["Credentials"]
        return {
            "accessKeyId": answer["AccessKeyId"],
            "secretAccessKey": answer["SecretAccessKey"],
            "sessionToken": answer["SessionToken"],
        }

    return mint


@pytest.fixture
def peer(moto_peer: MotoPeer) -> Iterator[RunningFake]:
    fake = IdentityCenterFake(directory=sample_directory(), credentials=_moto_minted(moto_peer))  # type: ignore[arg-type]
    yield from running_fake(fake)


@pytest.fixture
def env(
    secret_service: None, broker_home: Path, peer: RunningFake, tmp_path: Path
) -> dict[str, str]:
    config = tmp_path / "config"
    config.mkdir()
    (config / "broker.toml").write_text(
        '[broker]\ndefault_provider = "work"\n\n'
        '[providers.work]\ntype = "aws-identity-center"\n'
        f'start_url = "{START_URL}"\nregion = "eu-west-1"\nendpoint_url = "{peer.url}"\n\n'
        f'[profiles.dev]\naccount = "{ACCOUNT}"\nrole = "Developer"\n'
        'minter = "aws-identity-center"\nregion = "us-east-1"\n\n'
        f'[profiles.ro]\naccount = "{ACCOUNT}"\nrole = "ReadOnly"\n'
        'minter = "aws-identity-center"\n\n'
        '[profiles.prod-admin]\naccount = "444455556666"\nrole = "Admin"\n'
        'minter = "aws-identity-center"\n\n'
        f'[profiles.not-held]\naccount = "{ACCOUNT}"\nrole = "Admin"\n'
        'minter = "aws-identity-center"\n'
    )
    home = tmp_path / "home"
    home.mkdir()
    aws_config = tmp_path / "aws-config"
    aws_config.write_text(
        f"[profile dev]\ncredential_process = {sys.executable} -m broker credential-process "
        "--profile dev\nregion = us-east-1\n"
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    environment.update(
        HOME=str(home),
        BROKER_HOME=str(broker_home),
        BROKER_CONFIG=str(config),
        AWS_CONFIG_FILE=str(aws_config),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        PYTHONPATH=os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]),
    )
    environment.pop("DISPLAY", None)
    environment.pop("BROWSER", None)
    return environment


def broker(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "broker", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def login(env: dict[str, str], peer: RunningFake, user: str = "casey") -> str:
    """``broker login work``: read the user code it prints, approve it as ``user`` at the
    fake, and wait for the sign-in to finish. Returns what it printed."""
    process = subprocess.Popen(
        [sys.executable, "-m", "broker", "login", "work"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    seen: list[str] = []
    try:
        for line in process.stderr:
            seen.append(line)
            if "│" in line and any(c.isalnum() for c in line):
                code = "".join(line.replace("│", "").split())
                httpx.post(
                    f"{peer.url}/_fake/approve", json={"user_code": code, "user": user}
                ).raise_for_status()
                break
        rest = process.communicate(timeout=60)[1] or ""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    printed = "".join(seen) + rest
    assert process.returncode == 0, printed
    return printed


def aws(env: dict[str, str], moto: MotoPeer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(AWS), *args, "--endpoint-url", moto.url, "--output", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def assert_aws_cli_uses(env: dict[str, str], moto: MotoPeer, profile: str) -> None:
    """The real AWS CLI, through a ``credential_process`` profile for the broker's ``profile``
    (``ACCOUNT-NAME.ROLE``), is casey in the role Identity Center handed out."""
    Path(env["AWS_CONFIG_FILE"]).write_text(
        f"[profile ops]\ncredential_process = {sys.executable} -m broker credential-process "
        f"--profile {profile}\nregion = us-east-1\n"
    )
    who = aws(env, moto, "sts", "get-caller-identity", "--profile", "ops")
    assert who.returncode == 0, who.stderr
    role = profile.split(".", 1)[1]
    assert json.loads(who.stdout)["Arn"].endswith(f":assumed-role/Allowed{role}/casey")


def _files_under(*roots: Path) -> str:
    text = []
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file():
                text.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(text)


def test_login_portal_and_aws_cli(
    env: dict[str, str], peer: RunningFake, moto_peer: MotoPeer, broker_home: Path
) -> None:
    printed = login(env, peer)
    assert f"{peer.url}/start/#/device" in printed
    assert "Signed in to work" in printed
    assert peer.fake.count("RegisterClient") == 1

    listed = broker(env, "assignments", "--provider", "work")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["ACCOUNT", "NAME", "ROLE", "EMAIL"]
    held = [line.split()[:3] for line in lines[1:] if line.strip() and not line.startswith("-")]
    assert held == [
        [ACCOUNT, "payments-dev", "Developer"],
        [ACCOUNT, "payments-dev", "ReadOnly"],
        ["444455556666", "payments-prod", "Admin"],
        ["444455556666", "payments-prod", "Ops"],
        ["444455556666", "payments-prod", "ReadOnly"],
        ["777788889999", "sandbox", "Developer"],
    ]
    as_json = json.loads(broker(env, "assignments", "--provider", "work", "--json").stdout)
    assert as_json[0]["email"] == "dev@example.com"

    who = aws(env, moto_peer, "sts", "get-caller-identity", "--profile", "dev")
    assert who.returncode == 0, who.stderr
    assert ":assumed-role/AllowedDeveloper/casey" in json.loads(who.stdout)["Arn"]
    assert peer.fake.count("GetRoleCredentials") == 1

    # `configure aws` writes one profile per assignment Identity Center lists.
    written = Path(env["AWS_CONFIG_FILE"]).with_name("aws-config-configured")
    configured = broker(
        env,
        "configure",
        "aws",
        "--file",
        str(written),
        "--command-path",
        f"{sys.executable} -m broker",
        "--region",
        "us-east-1",
    )
    assert configured.returncode == 0, configured.stderr
    assert "[profile payments-prod.Ops]" in written.read_text()
    by_portal = aws(
        dict(env, AWS_CONFIG_FILE=str(written)),
        moto_peer,
        "sts",
        "get-caller-identity",
        "--profile",
        "payments-dev.ReadOnly",
    )
    assert by_portal.returncode == 0, by_portal.stderr
    assert ":assumed-role/AllowedReadOnly/casey" in json.loads(by_portal.stdout)["Arn"]

    # Nothing secret on disk: not in ~/.aws/sso/cache, not in the broker's files.
    assert not (Path(env["HOME"]) / ".aws" / "sso").exists()
    on_disk = _files_under(broker_home, Path(env["HOME"]))
    for token in [*peer.fake._access, *peer.fake._refresh]:
        assert token not in on_disk
    assert "GetRoleCredentials" in on_disk  # the audit log recorded the mint
    for client in peer.fake._clients.values():
        assert client.secret not in on_disk


def test_ended_token_is_refreshed_then_a_refused_refresh_asks_for_login(
    env: dict[str, str], peer: RunningFake
) -> None:
    peer.fake.token_lifetime = 60  # inside the chain's margin: the first mint refreshes
    login(env, peer)
    minted = broker(env, "credential-process", "--profile", "dev")
    assert minted.returncode == 0, minted.stderr
    document = json.loads(minted.stdout)
    assert document["Version"] == 1 and document["AccessKeyId"]
    assert peer.fake.count("CreateToken") == 2  # the sign-in, then the headless refresh

    peer.fake.revoke_refresh_tokens()
    refused = broker(env, "credential-process", "--profile", "ro")
    assert refused.returncode != 0
    assert refused.stdout == ""
    assert refused.stderr.strip().count("\n") == 0
    assert "broker login work" in refused.stderr


def test_revoked_session_and_role_not_held_are_one_line_each(
    env: dict[str, str], peer: RunningFake
) -> None:
    login(env, peer)
    not_held = broker(env, "credential-process", "--profile", "not-held")
    assert not_held.returncode != 0 and not_held.stdout == ""
    assert "do not hold Admin in account 111122223333" in not_held.stderr
    assert not_held.stderr.strip().count("\n") == 0

    peer.fake.throttle(10)
    throttled = broker(env, "credential-process", "--profile", "prod-admin")
    assert throttled.returncode != 0 and "throttling" in throttled.stderr
    assert throttled.stderr.strip().count("\n") == 0
    peer.fake.throttle(0)

    peer.fake.expire_access_tokens()
    revoked = broker(env, "credential-process", "--profile", "ro")
    assert revoked.returncode != 0 and revoked.stdout == ""
    assert "no longer accepts the work session" in revoked.stderr
    assert "broker login work" in revoked.stderr
    listed = broker(env, "assignments", "--provider", "work")
    assert listed.returncode != 0 and "broker login work" in listed.stderr


def test_profile_and_command_line_may_not_set_a_duration(
    env: dict[str, str], tmp_path: Path
) -> None:
    toml = Path(env["BROKER_CONFIG"]) / "broker.toml"
    toml.write_text(
        toml.read_text().replace('role = "ReadOnly"\n', 'role = "ReadOnly"\nduration = 900\n')
    )
    checked = broker(env, "credential-process", "--profile", "ro")
    assert checked.returncode != 0
    assert "profiles.ro.duration" in checked.stderr and "permission set" in checked.stderr
    toml.write_text(toml.read_text().replace("duration = 900\n", ""))
    flag = broker(env, "credential-process", "--profile", "ro", "--duration", "15m")
    assert flag.returncode == 2 and flag.stdout == ""
    assert "IAM Identity Center sets the session length" in flag.stderr


def test_console_open_for_an_identity_center_session(
    env: dict[str, str],
    peer: RunningFake,
    federation: FederationFake,  # noqa: F811 (the imported fixture)
    tmp_path: Path,
) -> None:
    """``broker console PROFILE --open``: the federation endpoint takes the session Identity
    Center handed out (the federation fake accepts only those exact credentials)."""
    peer.fake.credentials = lambda user, account, role, lifetime: {
        "accessKeyId": CREDENTIALS.access_key_id,
        "secretAccessKey": CREDENTIALS.secret_access_key,
        "sessionToken": CREDENTIALS.session_token,
    }
    toml = Path(env["BROKER_CONFIG"]) / "broker.toml"
    toml.write_text(
        f'[minters.aws]\nfederation_url = "{_url(federation)}"\nissuer = "https://b.example"\n\n'
        + toml.read_text()
    )
    login(env, peer)
    opened = tmp_path / "opened"
    browser = tmp_path / "browser"
    browser.write_text(f'#!/bin/sh\nprintf "%s" "$1" > {opened}\n')
    browser.chmod(0o700)
    result = broker(dict(env, BROWSER=str(browser)), "console", "dev", "--open")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert parse_qs(urlsplit(opened.read_text()).query)["SigninToken"] == ["signin-token-42"]
    assert peer.fake.count("GetRoleCredentials") == 1


def test_terminal_app_portal_lists_and_mints_identity_center_roles(
    env: dict[str, str], peer: RunningFake, broker_home: Path
) -> None:
    """The terminal app's services (what its portal screen and mint dialog call): the roles
    come from Identity Center, a mint goes through GetRoleCredentials and is kept in the
    keyring under the assignment's profile name; a session policy is refused (the permission
    set alone decides), not silently dropped."""
    from broker.errors import StsError, UsageError
    from broker.store.credential_store import CredentialStore
    from broker.sts.state_handle import StateHandle
    from broker.tui.model import MintChoice
    from broker.tui.services import Services

    login(env, peer)
    config_dir = Path(env["BROKER_CONFIG"])
    store = CredentialStore(broker_home)
    session = store.session("work")
    assert session is not None
    services = Services(config_dir, StateHandle(broker_home, None))
    roles = services.portal_roles(session)
    assert [(r.account_name, r.role_name) for r in roles][:2] == [
        ("payments-dev", "Developer"),
        ("payments-dev", "ReadOnly"),
    ]
    assert {r.via for r in roles} == {"IAM Identity Center"}
    assert all(r.fixed_session for r in roles)  # the dialog asks for no duration or policy
    outcome = services.mint(session, roles[1], MintChoice(seconds=None, reason="on call"))
    assert outcome.profile == "payments-dev.ReadOnly"
    assert peer.fake.count("GetRoleCredentials") == 1
    cached = store.credentials("payments-dev.ReadOnly")
    assert cached is not None and cached.access_key_id == outcome.credentials.access_key_id

    with pytest.raises(StsError, match="takes no session policy"):
        services.mint(
            session, roles[0], MintChoice(seconds=None, session_policy='{"Version":"2012-10-17"}')
        )
    assert peer.fake.count("GetRoleCredentials") == 1
    with pytest.raises(UsageError, match="drop --duration"):  # a duration is never ignored
        services.mint(session, roles[0], MintChoice(seconds=3600))
    assert peer.fake.count("GetRoleCredentials") == 1


def test_identity_center_alone_needs_no_directory(env: dict[str, str]) -> None:
    """The README's minimal configuration is valid as it stands: Identity Center is the
    directory. A profile minted elsewhere brings back the need for ours."""
    checked = broker(env, "config", "validate")
    assert checked.returncode == 0, checked.stderr
    toml = Path(env["BROKER_CONFIG"]) / "broker.toml"
    toml.write_text(toml.read_text() + '\n[profiles.local]\naccount = "111122223333"\nrole = "X"\n')
    local = broker(env, "config", "validate")
    assert local.returncode != 0 and "directory" in local.stdout + local.stderr
