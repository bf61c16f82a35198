"""``broker console`` argument rules (the sign-in itself is tested against a loopback fake)."""

from __future__ import annotations

import pytest

from broker.commands.console import ConsoleInput, run_console
from broker.errors import UsageError


@pytest.mark.parametrize(
    "options",
    [
        ConsoleInput(profile=None, from_env=False, destination=None, duration=None),
        ConsoleInput(profile="dev", from_env=True, destination=None, duration=None),
    ],
)
def test_exactly_one_source_of_credentials(options: ConsoleInput, broker_home: object) -> None:
    with pytest.raises(UsageError, match="exactly one"):
        run_console(options)


def test_env_needs_all_three_parts(broker_home: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ASIAEXAMPLEEXAMPLE01")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    options = ConsoleInput(profile=None, from_env=True, destination=None, duration=None)
    with pytest.raises(UsageError, match="AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN"):
        run_console(options)
