"""Client-side install edges through the real ``broker`` process on the real Secret Service:
the absolute ``credential_process`` path, $BROWSER without a display, ``refresh`` that says what
it did, TOML-quoted profile hints, and mint refusals worded for people."""

from __future__ import annotations

import json
import shlex
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from broker.client.executable import temporary_location
from broker.minters.base import Credentials
from broker.store.credential_store import CredentialStore
from tests.client_support import write_config
from tests.conftest import CONFIG, one_line

pytestmark = [pytest.mark.keyring, pytest.mark.integration]


@pytest.fixture
def seeded(secret_service: None, broker_home: Path, tmp_path: Path, monkeypatch) -> Path:
    config = write_config(tmp_path / "config")
    monkeypatch.setenv("BROKER_CONFIG", str(config))
    CredentialStore(broker_home).save_credentials(
        "dev",
        provider="corp",
        account="111122223333",
        role="Developer",
        credentials=Credentials(
            access_key_id="BKIAINSTALL000000001",
            secret_access_key="i" * 40,
            session_token="install-token",
            expiration=(datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0),
        ),
    )
    return config


# -- configure aws --------------------------------------------------------------------------


def test_configure_aws_writes_the_absolute_path_of_the_running_broker(
    seeded: Path, tmp_path: Path, run_broker
) -> None:
    aws_config = tmp_path / "aws-config"
    result = run_broker("configure", "aws", env={"AWS_CONFIG_FILE": str(aws_config)})
    assert result.returncode == 0, result.stderr
    # run_broker starts `python -m broker`: the broker of that interpreter's environment.
    running = Path(sys.executable).parent / "broker"
    assert running.is_absolute() and running.is_file()
    assert f"credential_process = {running} credential-process --profile dev\n" in (
        aws_config.read_text()
    )
    # A checkout under /tmp (a CI clone) is itself a temporary place: then, and only then, warn.
    expected = temporary_location(shlex.quote(str(running)))
    assert ("warning" in result.stderr) is (expected is not None)


def test_configure_aws_warns_when_profiles_would_point_into_a_temporary_place(
    seeded: Path, tmp_path: Path, run_broker
) -> None:
    aws_config = tmp_path / "aws-config"
    fleeting = tmp_path / "venv" / "bin" / "broker"  # pytest's tmp_path is under the temp dir
    result = run_broker(
        "configure",
        "aws",
        "--command-path",
        str(fleeting),
        env={"AWS_CONFIG_FILE": str(aws_config)},
    )
    assert result.returncode == 0, result.stderr
    [warning] = [line for line in result.stderr.splitlines() if "warning" in line]
    assert str(fleeting) in warning and "temporary directory" in warning
    assert "pipx install" in warning


# -- refresh --------------------------------------------------------------------------------


def test_refresh_verbose_says_what_it_did(seeded: Path, run_broker) -> None:
    result = run_broker("refresh", "-v", "--profile", "dev")
    assert result.returncode == 0, result.stderr
    assert "1 profile(s): 1 still fresh, 0 refreshed, 0 not refreshed" in result.stderr


def test_refresh_of_an_unknown_profile_is_an_error(seeded: Path, run_broker) -> None:
    result = run_broker("refresh", "--profile", "nope")
    assert result.returncode == 3
    line = one_line(result.stderr)
    assert "no profile 'nope' to refresh" in line and "dev" in line


def test_refresh_with_nothing_to_refresh_says_so(
    secret_service: None, tmp_path: Path, monkeypatch, run_broker
) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "broker.toml").write_text(
        '[providers.corp]\ntype = "oidc"\nissuer = "https://idp.example.com"\nclient_id = "x"\n'
    )
    monkeypatch.setenv("BROKER_CONFIG", str(config))
    result = run_broker("refresh", "-v")
    assert result.returncode == 0, result.stderr
    assert "nothing to refresh" in one_line(result.stderr)


# -- hints ----------------------------------------------------------------------------------


def test_the_unknown_profile_hint_is_valid_toml_for_a_dotted_name(seeded: Path, run_broker) -> None:
    import tomllib

    result = run_broker("env", "payments-prod.AdministratorAccess")
    assert result.returncode == 3
    line = one_line(result.stderr)
    table = line.split("add a ", 1)[1].split(" table", 1)[0]
    assert table == '[profiles."payments-prod.AdministratorAccess"]'
    parsed = tomllib.loads(f'{table}\naccount = "1"\n')
    assert list(parsed["profiles"]) == ["payments-prod.AdministratorAccess"]


# -- $BROWSER and the demo IdP ---------------------------------------------------------------

_BROWSER = textwrap.dedent(
    '''
    """A stand-in browser: signs in as alice on the embedded IdP's page, in the background."""
    import http.client, os, subprocess, sys, urllib.parse, urllib.request

    if sys.argv[1] != "--work":
        with open(os.environ["BROWSER_LOG"], "a") as log:
            log.write(sys.argv[1] + "\\n")
        subprocess.Popen([sys.executable, __file__, "--work", sys.argv[1]], start_new_session=True)
        sys.exit(0)
    url = urllib.parse.urlsplit(sys.argv[2])
    form = dict(urllib.parse.parse_qsl(url.query), user="alice")
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=20)
    connection.request("POST", url.path, urllib.parse.urlencode(form),
                       {"Content-Type": "application/x-www-form-urlencoded"})
    location = connection.getresponse().getheader("location")
    urllib.request.urlopen(location, timeout=20).read()
    '''
)


def test_browser_is_honoured_without_a_display_and_its_url_is_live(
    secret_service: None, tmp_path: Path, monkeypatch, run_broker
) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY"):
        monkeypatch.delenv(name, raising=False)
    script = tmp_path / "browser"  # $BROWSER names one executable (Python's webbrowser)
    script.write_text(f"#!{sys.executable}\n{_BROWSER}")
    script.chmod(0o700)
    log = tmp_path / "opened.txt"
    result = run_broker(
        "login",
        "demo",
        env={
            "BROKER_CONFIG": str(CONFIG),
            "BROWSER": str(script),
            "BROWSER_LOG": str(log),
        },
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Signed in to demo as alice@example.com." in result.stderr
    assert "device" not in result.stderr.lower()
    [opened] = log.read_text().splitlines()
    assert opened.startswith("http://127.0.0.1:")
    who = run_broker("whoami", "--json", env={"BROKER_CONFIG": str(CONFIG)})
    assert json.loads(who.stdout)[0]["email"] == "alice@example.com"


# -- mint refusals worded for people -----------------------------------------------------------


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        (43200, "is longer than the maximum session of"),
        (129600, "is longer than STS allows for"),
    ],
)
def test_a_too_long_profile_duration_is_refused_in_words_for_people(
    secret_service: None, tmp_path: Path, monkeypatch, run_broker, duration: int, expected: str
) -> None:
    demo = {"BROKER_CONFIG": str(CONFIG)}
    signed_in = run_broker("login", "demo", "--user-hint", "alice", env=demo)
    assert signed_in.returncode == 0, signed_in.stderr
    assignments = json.loads(
        run_broker("assignments", "--user", "alice", "--json", env=demo).stdout
    )["assignments"]
    admin = next(a for a in assignments if a["permission_set"] == "AdministratorAccess")
    config = tmp_path / "config"
    config.mkdir()
    for part in ("directory", "policies", "idp"):
        (config / part).symlink_to(CONFIG / part)
    (config / "broker.toml").write_text(
        (CONFIG / "broker.toml").read_text()
        + f'\n[profiles.long]\naccount = "{admin["account_id"]}"\n'
        f'role = "{admin["role_name"]}"\nduration = {duration}\n'
    )
    result = run_broker(
        "credential-process", "--profile", "long", env={"BROKER_CONFIG": str(config)}
    )
    assert result.returncode == 7
    line = one_line(result.stderr)
    assert f"profile long: a {duration} s session {expected}" in line
    assert "set duration in [profiles.long]" in line
    assert "Member must have" not in line and "1 validation error" not in line
