"""Chained profiles in ``broker.toml``: every key checked, fail closed."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.client.profiles import load_profiles
from broker.config import ConfigIssues, load_config
from broker.sts.state_handle import StateHandle
from tests.client_support import write_config

ARN = "arn:aws:iam::444455556666:role/team/Audit"


def test_a_chained_profile_takes_account_and_role_from_its_arn(tmp_path: Path) -> None:
    extra = (
        f'\n[profiles.audit]\nsource_profile = "dev"\nrole_arn = "{ARN}"\n'
        'mfa_serial = "arn:aws:iam::111122223333:mfa/alice"\n'
        'endpoint_url = "http://127.0.0.1:8787"\n'
    )
    audit = load_profiles(load_config(write_config(tmp_path, extra)))["audit"]
    assert (audit.account, audit.role, audit.minter) == ("444455556666", "Audit", "chained")
    assert audit.source_profile == "dev" and audit.duration == 3600


@pytest.mark.parametrize(
    ("table", "key", "fragment"),
    [
        (f'source_profile = "dev"\nrole_arn = "{ARN}"\nduration = 3601', "duration", "3600"),
        ('source_profile = "dev"', "", "both source_profile and role_arn"),
        (f'role_arn = "{ARN}"', "", "both source_profile and role_arn"),
        ('source_profile = "dev"\nrole_arn = "arn:aws:iam::1:role/x"', "role_arn", "must be"),
        (
            f'source_profile = "dev"\nrole_arn = "{ARN}"\naccount = "111122223333"',
            "account",
            "remove it",
        ),
        (f'source_profile = "dev"\nrole_arn = "{ARN}"\nmfa_serial = "123456"', "mfa_serial", ""),
        (
            f'source_profile = "dev"\nrole_arn = "{ARN}"\nendpoint_url = "ftp://x/y"',
            "endpoint_url",
            "",
        ),
        (
            'account = "111122223333"\nrole = "R"\nmfa_serial = "arn:aws:iam::1:mfa/a"',
            "mfa_serial",
            "only a chained profile",
        ),
        (f'source_profile = "x"\nrole_arn = "{ARN}"', "source_profile", "names this profile"),
    ],
)
def test_bad_chained_tables_are_refused(
    tmp_path: Path, table: str, key: str, fragment: str
) -> None:
    config = load_config(write_config(tmp_path, f"\n[profiles.x]\n{table}\n"))
    with pytest.raises(ConfigIssues) as caught:
        load_profiles(config)
    found = {issue.key: issue.message for issue in caught.value.issues}
    wanted = f"profiles.x.{key}" if key else "profiles.x"
    assert wanted in found, found
    assert fragment in found[wanted]


def test_a_loop_of_source_profiles_is_refused(tmp_path: Path) -> None:
    extra = (
        f'\n[profiles.a]\nsource_profile = "b"\nrole_arn = "{ARN}"\n'
        f'\n[profiles.b]\nsource_profile = "a"\nrole_arn = "{ARN}"\n'
    )
    with pytest.raises(ConfigIssues) as caught:
        load_profiles(load_config(write_config(tmp_path, extra)))
    assert "a loop: a -> b -> a" in str(caught.value)


def test_only_the_commands_that_may_ask_get_a_terminal_prompt(tmp_path: Path) -> None:
    from broker.client.mfa_prompt import no_mfa_prompt, terminal_mfa_code
    from broker.client.wiring import open_chain
    from broker.errors import ReauthenticationRequired

    extra = (
        f'\n[profiles.audit]\nsource_profile = "dev"\nrole_arn = "{ARN}"\n'
        'mfa_serial = "arn:aws:iam::111122223333:mfa/alice"\n'
    )
    config_dir = write_config(tmp_path / "config", extra)
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    for ask, expected in ((False, no_mfa_prompt), (True, terminal_mfa_code)):
        config, chain = open_chain(
            config_dir=config_dir, state=StateHandle(home, None), ask_mfa=ask
        )
        audit = load_profiles(config)["audit"]
        assert chain.minter(audit).read_code is expected  # type: ignore[attr-defined]
    with pytest.raises(ReauthenticationRequired, match="broker exec audit -- true"):
        no_mfa_prompt(load_profiles(load_config(config_dir))["audit"])
    with pytest.raises(ReauthenticationRequired, match="no terminal"):
        terminal_mfa_code(load_profiles(load_config(config_dir))["audit"], str(tmp_path / "none"))
