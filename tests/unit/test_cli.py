"""The command line's contract: one-line errors, documented exit codes, honest placeholders."""

from __future__ import annotations

import argparse

import pytest

from broker import cli
from broker.errors import BrokerError, ConfigError, NotYetAvailableError, UsageError
from tests.conftest import one_line


def test_unknown_command_is_a_usage_error_with_exit_2(run_broker) -> None:
    result = run_broker("no-such-command")
    assert result.returncode == UsageError.exit_code == 2
    line = one_line(result.stderr)
    assert "invalid choice" in line and "--help" in line
    assert result.stdout == ""


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_placeholder_fails_honestly_naming_its_issue() -> None:
    handler = cli._not_yet("frobnicate", 99)
    with pytest.raises(NotYetAvailableError) as caught:
        handler(argparse.Namespace())
    assert str(caught.value) == "`broker frobnicate` is not yet available (issue #99 brings it)"
    assert caught.value.exit_code == 3


def test_every_planned_command_is_registered_or_an_honest_placeholder(run_broker) -> None:
    commands = _subcommands()
    assert set(cli.PLANNED) <= set(commands)
    for name, (_summary, issue) in cli.PLANNED.items():
        if commands[name].get_default("planned_issue") != issue:
            continue  # the real command has landed
        result = run_broker(name)
        assert result.returncode == NotYetAvailableError.exit_code, name
        line = one_line(result.stderr)
        assert f"issue #{issue}" in line and "not yet available" in line


def test_broker_error_becomes_one_line_and_its_exit_code(capsys, monkeypatch) -> None:
    def boom(_parser):
        raise ConfigError("providers.corp: unknown key 'issuer_url'; did you mean 'issuer'?")

    monkeypatch.setattr(cli, "build_parser", lambda: boom(None))
    code = cli.main(["whatever"])
    err = capsys.readouterr().err
    assert code == ConfigError.exit_code == 3
    assert one_line(err) == (
        "broker: error: providers.corp: unknown key 'issuer_url'; did you mean 'issuer'?"
    )


def test_unexpected_exception_is_logged_not_shown(capsys, monkeypatch, broker_home) -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY"

    def boom():
        raise RuntimeError(f"leaked {secret}")

    monkeypatch.setattr(cli, "build_parser", boom)
    code = cli.main(["whatever"])
    err = capsys.readouterr().err
    assert code == 70
    assert secret not in err
    line = one_line(err)
    assert "internal error (RuntimeError)" in line and str(broker_home) in line
    log = broker_home / "logs" / "broker.log"
    assert log.stat().st_mode & 0o077 == 0


def test_exit_codes_are_distinct_per_branch() -> None:
    branches = [cls for cls in BrokerError.__subclasses__()]
    codes = [cls.exit_code for cls in branches]
    assert len(codes) == len(set(codes)), codes
    assert all(code not in (0, 70, 130) for code in codes)
