"""``broker credential-process`` as the AWS CLI runs it: a whole process, real Secret Service."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from broker.errors import (
    ConfigError,
    KeyringUnavailableError,
    ReauthenticationRequired,
)
from broker.minters.base import Credentials
from broker.signin import LoginInput, run_login
from broker.store.credential_store import CredentialStore
from providers.testing import SilentUI
from tests.client_support import TestIdP, write_config
from tests.conftest import REPO, one_line

pytestmark = [pytest.mark.keyring, pytest.mark.integration]


@pytest.fixture
def config(broker_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = write_config(tmp_path / "config")
    monkeypatch.setenv("BROKER_CONFIG", str(directory))
    return directory


def _seed(
    home: Path, minutes: int, key_id: str = "BKIAFASTPATH00000001", lifetime: int | None = None
) -> Credentials:
    credentials = Credentials(
        access_key_id=key_id,
        secret_access_key="s3cr3t/" + "k" * 33,
        session_token="token-" + "t" * 40,
        expiration=(datetime.now(UTC) + timedelta(minutes=minutes)).replace(microsecond=0),
    )
    store = CredentialStore(home)
    store.save_credentials(
        "dev",
        provider="corp",
        account="111122223333",
        role="Developer",
        credentials=credentials,
        lifetime_seconds=lifetime,
        stamp=store.revocation_stamp(),  # as a mint records it: the fast path may serve it
    )
    return credentials


def test_cache_hit_prints_exactly_the_version_1_json(
    secret_service: None, broker_home: Path, config: Path, run_broker
) -> None:
    credentials = _seed(broker_home, minutes=50)
    result = run_broker("credential-process", "--profile", "dev")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.endswith("\n") and result.stdout.count("\n") == 1
    assert json.loads(result.stdout) == credentials.to_process_json()
    assert json.loads(result.stdout)["Expiration"].endswith("Z")


def test_two_data_directories_each_serve_their_own_profile(
    secret_service: None, tmp_path: Path, config: Path, run_broker
) -> None:
    # One user, one keyring, two BROKER_HOMEs with a profile of the same name: the fast path
    # must read each directory's own entry, never the one written last.
    homes = [tmp_path / "home-a", tmp_path / "home-b"]
    seeded = [_seed(home, 50, f"BKIAFASTPATH0000000{i}") for i, home in enumerate(homes)]
    for home, credentials in zip(homes, seeded, strict=True):
        result = run_broker(
            "credential-process", "--profile", "dev", env={"BROKER_HOME": str(home)}
        )
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout) == credentials.to_process_json()


def test_cache_hit_imports_almost_nothing(
    secret_service: None, broker_home: Path, config: Path
) -> None:
    _seed(broker_home, minutes=50)
    out = _credential_process_in_python(
        "heavy = {'keyring', 'secretstorage', 'cryptography', 'argparse', 'json', 'textual',\n"
        "         'httpx', 'jose', 'authlib', 'datetime', 'tomllib', 'providers'}\n"
        "print(rc, sorted(heavy & {m.split('.')[0] for m in sys.modules}))\n"
    )
    assert out.stdout.strip() == "0 []", out.stdout + out.stderr


def _credential_process_in_python(then: str) -> subprocess.CompletedProcess[str]:
    """Run ``credential-process --profile dev`` through ``broker.cli.main`` in a fresh
    interpreter (its output kept in ``out``, its status in ``rc``), then the code ``then``."""
    code = (
        "import sys, io\n"
        "from broker.cli import main\n"
        "out = io.StringIO(); real = sys.stdout; sys.stdout = out\n"
        "rc = main(['credential-process', '--profile', 'dev'])\n"
        "sys.stdout = real\n"
    ) + then
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )


def test_inside_the_refresh_window_takes_the_full_path(
    secret_service: None, broker_home: Path, config: Path, run_broker
) -> None:
    run_login(
        LoginInput(provider="corp"),
        store=CredentialStore(broker_home),
        build=lambda _n: TestIdP(),
        ui=SilentUI(),
    )
    # A 12-hour credential with 12 minutes left: botocore would refresh, we must not serve it.
    _seed(broker_home, minutes=12, lifetime=12 * 3600)
    result = run_broker("credential-process", "--profile", "dev", timeout=30)
    # Not served from the cache: the full path reaches the local minter, which needs the
    # directory this test config does not have.
    assert result.stdout == ""
    assert result.returncode == ConfigError.exit_code
    line = one_line(result.stderr)
    assert "config/directory: error: no directory configuration here" in line


def test_sign_in_needed_fails_at_once_without_prompting(
    secret_service: None, broker_home: Path, config: Path, run_broker
) -> None:
    result = run_broker("credential-process", "--profile", "dev", timeout=30)
    assert result.stdout == ""
    assert result.returncode == ReauthenticationRequired.exit_code
    assert "run `broker login corp`" in one_line(result.stderr)


def test_unknown_profile_lists_the_configured_ones(
    secret_service: None, config: Path, run_broker
) -> None:
    result = run_broker("credential-process", "--profile", "nope")
    assert result.returncode == 3
    line = one_line(result.stderr)
    assert "no profile 'nope'" in line and "dev, ops" in line


def test_no_dbus_is_a_clear_keyring_error(config: Path, run_broker) -> None:
    env = {"DBUS_SESSION_BUS_ADDRESS": ""}
    result = run_broker("credential-process", "--profile", "dev", env=env, timeout=30)
    assert result.stdout == ""
    assert result.returncode == KeyringUnavailableError.exit_code
    line = one_line(result.stderr)
    assert "D-Bus" in line and "gnome-keyring" in line


def test_locked_keyring_is_a_clear_error_not_a_prompt(tmp_path: Path) -> None:
    """Locks the collection of a private gnome-keyring (its own bus) and calls the broker."""
    config = write_config(tmp_path / "config")
    script = (
        "set -e\n"
        "python - <<'PY'\n"
        "from contextlib import closing\n"
        "import secretstorage\n"
        "with closing(secretstorage.dbus_init()) as c:\n"
        "    secretstorage.get_default_collection(c).lock()\n"
        "PY\n"
        "exec python -m broker credential-process --profile dev\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "BROKER_HOME": str(tmp_path / "home"),
        "BROKER_CONFIG": str(config),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    for name in (
        "DBUS_SESSION_BUS_ADDRESS",
        "GNOME_KEYRING_CONTROL",
        "BROKER_TEST_KEYRING_HOME",
        "XDG_DATA_HOME",
    ):
        env.pop(name, None)  # its own bus and its own keyring files, not the outer ones
    result = subprocess.run(
        ["dbus-run-session", "--", str(REPO / "scripts" / "with-keyring"), "bash", "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.stdout == ""
    assert result.returncode == KeyringUnavailableError.exit_code, result.stderr
    broker_lines = [line for line in result.stderr.splitlines() if line.startswith("broker:")]
    assert len(broker_lines) == 1
    assert "keyring is locked" in broker_lines[0] and "unlock" in broker_lines[0]


def _served_by_the_fast_path(expected: Credentials) -> bool:
    """Run ``credential-process`` in a fresh interpreter; True when the answer came from the
    fast path (which never builds the argument parser)."""
    out = _credential_process_in_python(
        "print(rc, 'argparse' in sys.modules)\nprint(out.getvalue(), end='')\n"
    )
    status, _, served = out.stdout.partition("\n")
    assert json.loads(served) == expected.to_process_json(), out.stderr
    rc, parser_built = status.split(" ")
    assert rc == "0"
    return parser_built == "False"


def test_an_unchecked_entry_is_checked_once_by_the_full_path_then_served_fast(
    secret_service: None, broker_home: Path, config: Path
) -> None:
    credentials = _seed(broker_home, minutes=50)
    store = CredentialStore(broker_home)
    store.save_credentials(  # as a copy from before revocation stamps, or the TUI, saves it
        "dev", provider="corp", account="111122223333", role="Developer", credentials=credentials
    )
    assert not _served_by_the_fast_path(credentials)
    assert _served_by_the_fast_path(credentials)


def test_a_changed_revocation_list_sends_the_next_call_through_the_full_path(
    secret_service: None, broker_home: Path, config: Path, run_broker
) -> None:
    credentials = _seed(broker_home, minutes=50)
    assert _served_by_the_fast_path(credentials)
    revoked = run_broker("sts", "revoke", "--session", "someone-elses-session")
    assert revoked.returncode == 0, revoked.stderr
    # Not one of the broker's session tokens, so no rule can match it: served, re-stamped.
    assert not _served_by_the_fast_path(credentials)
    assert _served_by_the_fast_path(credentials)


def test_an_unfinished_write_of_the_profile_is_never_served_by_the_fast_path(
    secret_service: None, broker_home: Path, config: Path
) -> None:
    from broker.store.intents import INTENTS_DIR, intent_file_name

    credentials = _seed(broker_home, minutes=50)
    intent = broker_home / INTENTS_DIR / intent_file_name("profile:dev")
    intent.write_text("{}")  # unreadable as an intent: settled by removing it
    intent.chmod(0o600)
    assert not _served_by_the_fast_path(credentials)
    assert not intent.exists()
    assert _served_by_the_fast_path(credentials)
