"""``broker --debug`` and proxy-aware errors through the real CLI: a mint by the upstream
``aws`` minter against moto on 127.0.0.1 (botocore's exchange logged, every secret redacted),
and the IdP and STS unreachable through a configured proxy that refuses connections."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from broker.signin import LoginInput, run_login
from broker.store.credential_store import CredentialStore
from providers.testing import SilentUI
from tests.client_support import TestIdP, write_config
from tests.conftest import RunBroker, one_line
from tests.integration.moto_peer import MotoPeer

pytestmark = [pytest.mark.keyring, pytest.mark.integration]

PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY",
                   "all_proxy", "NO_PROXY", "no_proxy")  # fmt: skip


def _upstream_config(tmp_path: Path, endpoint: str, profile: str) -> Path:
    return write_config(
        tmp_path / "config",
        '\n[profiles.upstream]\naccount = "111122223333"\nrole = "AllowedReadOnly"\n'
        'minter = "aws"\n\n'
        '[minters.aws.accounts."111122223333"]\n'
        f'profile = "{profile}"\nendpoint_url = "{endpoint}"\nregion = "us-east-1"\n'
        'roles = ["AllowedReadOnly"]\n',
    )


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens once it is closed


@pytest.fixture
def signed_in(secret_service: None, broker_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    run_login(
        LoginInput(provider="corp"),
        store=CredentialStore(broker_home),
        build=lambda _n: TestIdP(),
        ui=SilentUI(),
    )


def test_debug_logs_botocores_exchange_with_secrets_redacted(
    signed_in: None,
    tmp_path: Path,
    moto_peer: MotoPeer,
    upstream_profile: str,
    run_broker: RunBroker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "BROKER_CONFIG", str(_upstream_config(tmp_path, moto_peer.url, upstream_profile))
    )
    result = run_broker("--debug", "credential-process", "--profile", "upstream")
    assert result.returncode == 0, result.stderr
    minted = json.loads(result.stdout)
    log = result.stderr
    assert "broker debug: botocore.endpoint:" in log and moto_peer.url in log
    assert "AssumeRole" in log and "<redacted>" in log
    for secret in (
        minted["SecretAccessKey"],
        minted["SessionToken"],
        moto_peer.secret_access_key,
    ):
        assert secret not in log
    quiet = run_broker("credential-process", "--profile", "upstream")  # a hit: nothing logged
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_sts_unreachable_through_a_proxy_names_the_proxy(
    signed_in: None,
    tmp_path: Path,
    upstream_profile: str,
    run_broker: RunBroker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    proxy = f"http://someone:pr0xy-pass@127.0.0.1:{_closed_port()}"
    monkeypatch.setenv(
        "BROKER_CONFIG",
        str(_upstream_config(tmp_path, "http://sts.internal.example", upstream_profile)),
    )
    result = run_broker(
        "credential-process", "--profile", "upstream", env={"HTTP_PROXY": proxy}, timeout=120
    )
    assert result.returncode != 0 and result.stdout == ""
    line = one_line(result.stderr)
    assert "through the proxy in HTTP_PROXY (http://127.0.0.1:" in line, line
    assert "pr0xy-pass" not in line and "someone" not in line


def test_idp_unreachable_through_a_proxy_names_the_proxy(
    secret_service: None,
    broker_home: Path,
    tmp_path: Path,
    run_broker: RunBroker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "idp-config"
    config.mkdir()
    (config / "broker.toml").write_text(
        '[providers.corp]\ntype = "oidc"\nissuer = "https://idp.example.com"\n'
        'client_id = "access-broker"\n'
    )
    monkeypatch.setenv("BROKER_CONFIG", str(config))
    proxy = f"http://127.0.0.1:{_closed_port()}"
    result = run_broker("--debug", "login", "corp", env={"HTTPS_PROXY": proxy}, timeout=120)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert f"through the proxy in HTTPS_PROXY ({proxy})" in lines[-1], result.stderr
    assert lines[-1].startswith("broker: error:")
    assert any(line.startswith("broker debug: httpcore") for line in lines), result.stderr


def test_debug_without_a_command_is_refused(run_broker: RunBroker) -> None:
    result = run_broker("--debug")
    assert result.returncode == 2 and result.stdout == ""
    assert "use it with a command" in one_line(result.stderr)
