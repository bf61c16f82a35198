"""Profiles from ``broker.toml``: strict, every problem reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.client.profiles import find_profile, load_profiles
from broker.config import ConfigIssues, load_config
from broker.errors import ConfigError
from tests.client_support import write_config


def test_profiles_load_with_the_default_provider(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path))
    profiles = load_profiles(config)
    assert profiles["dev"].provider == "corp" and profiles["dev"].region == "eu-west-1"
    assert profiles["ops"].duration == 900 and profiles["ops"].minter == "local"


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    extra = (
        '\n[profiles.bad]\naccount = "12"\nrole = "R"\nduration = 10\nrgion = "x"\n'
        '\n[profiles.worse]\naccount = "111122223333"\nrole = "R"\nminter = "magic"\n'
    )
    config = load_config(write_config(tmp_path, extra))
    with pytest.raises(ConfigIssues) as caught:
        load_profiles(config)
    keys = {issue.key for issue in caught.value.issues}
    assert {"profiles.bad.rgion", "profiles.worse.minter"} <= keys


def test_unknown_profile_names_the_configured_ones(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path))
    with pytest.raises(ConfigError, match=r"no profile 'x'.*configured: dev, ops"):
        find_profile(config, "x")
