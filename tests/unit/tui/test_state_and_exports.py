import stat
import subprocess
from datetime import UTC, datetime

from broker.minters.base import Credentials
from broker.tui.exports import (
    MASK,
    Shell,
    credential_process_profile,
    env_exports,
    single_values,
)
from broker.tui.state import TuiState, load_state, save_state, state_path

CREDS = Credentials(
    access_key_id="ABKEXAMPLEKEY0000001",
    secret_access_key="s3cr3t/with'quote+and$dollar",
    session_token="token-value",
    expiration=datetime(2026, 1, 2, 12, 0, tzinfo=UTC),
)


def test_state_round_trips_with_owner_only_permissions(tmp_path) -> None:
    state = TuiState().toggle_favourite("1/a").toggle_favourite("2/b").used("2/b")
    save_state(tmp_path / "home", state)
    path = state_path(tmp_path / "home")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_state(tmp_path / "home") == state
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left


def test_damaged_state_gives_defaults(tmp_path) -> None:
    state_path(tmp_path).write_text("{not json")
    assert load_state(tmp_path) == TuiState()
    state_path(tmp_path).write_text('{"favourites": [1, "ok"], "welcome_seen": "yes"}')
    loaded = load_state(tmp_path)
    assert loaded.favourites == ("ok",) and loaded.welcome_seen is False


def test_favourites_cap_at_nine_and_close_up() -> None:
    state = TuiState()
    for n in range(12):
        state = state.toggle_favourite(f"k/{n}")
    assert len(state.favourites) == 9
    state = state.toggle_favourite("k/0")
    assert state.favourites[0] == "k/1"


def test_recent_keeps_last_ten_newest_first() -> None:
    state = TuiState()
    for n in range(12):
        state = state.used(f"k/{n}")
    state = state.used("k/5")
    assert state.recent[0] == "k/5" and len(state.recent) == 10
    assert state.recent.count("k/5") == 1 and state.last_role == "k/5"


def _run(shell: list[str], script: str) -> str:
    return subprocess.run(shell, input=script, capture_output=True, text=True, check=True).stdout


def test_bash_exports_survive_the_shell_exactly() -> None:
    script = env_exports(CREDS, Shell.BASH) + '\nprintf %s "$AWS_SECRET_ACCESS_KEY"'
    assert _run(["bash"], script) == CREDS.secret_access_key


def test_masked_text_hides_every_secret() -> None:
    for shell in Shell:
        text = env_exports(CREDS, shell, masked=True)
        assert CREDS.secret_access_key not in text and "token-value" not in text
        assert MASK in text and CREDS.access_key_id in text
    assert all(CREDS.secret_access_key != v for _k, v in single_values(CREDS, masked=True))


def test_fish_and_powershell_forms() -> None:
    assert "set -gx AWS_ACCESS_KEY_ID 'ABKEXAMPLEKEY0000001'" in env_exports(CREDS, Shell.FISH)
    ps = env_exports(CREDS, Shell.POWERSHELL)
    assert "$Env:AWS_SECRET_ACCESS_KEY = 's3cr3t/with''quote+and$dollar'" in ps
    assert "AWS_CREDENTIAL_EXPIRATION" in ps and "2026-01-02T12:00:00Z" in ps


def test_credential_process_profile_holds_no_secret() -> None:
    text = credential_process_profile(
        "payments-prod.AdminAccess", region="eu-west-1", command="/opt/broker/bin/broker"
    )
    assert text.splitlines() == [
        "[profile payments-prod.AdminAccess]",
        "credential_process = /opt/broker/bin/broker credential-process"
        " --profile payments-prod.AdminAccess",
        "region = eu-west-1",
    ]


def test_credential_process_profile_runs_this_broker_by_absolute_path() -> None:
    """By default the line names the running broker: the script beside this Python here."""
    import shlex
    import subprocess
    import sys
    from pathlib import Path

    line = credential_process_profile("p").splitlines()[1]
    command = shlex.split(line.removeprefix("credential_process = "))
    assert command[-3:] == ["credential-process", "--profile", "p"]
    program = Path(command[0])
    assert program.is_absolute()
    assert program == Path(sys.executable).parent / "broker"
    version = subprocess.run(
        [*command[:-3], "--version"], capture_output=True, text=True, check=True, timeout=60
    )
    assert version.stdout.startswith("broker ")
