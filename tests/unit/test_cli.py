"""The command line's contract: every command registered, one-line errors, documented exit codes."""

from __future__ import annotations

import argparse

import pytest

from broker import cli
from broker.errors import BrokerError, ConfigError, UsageError
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


# Every command the README documents; a command module that fails to import must fail the
# parser build (no silent skip), so a broken import cannot hide a command.
COMMANDS = {
    "login", "logout", "whoami", "providers", "saml", "directory", "assignments", "serve",
    "sts", "keys", "access-keys", "audit", "credential-process", "exec", "env", "refresh",
    "configure", "serve-credentials", "console", "db", "report", "analyze",
}  # fmt: skip


def test_every_command_is_registered_with_a_handler_or_subcommands() -> None:
    commands = _subcommands()
    assert COMMANDS <= set(commands)
    for name, parser in commands.items():
        has_subcommands = any(
            isinstance(action, argparse._SubParsersAction) for action in parser._actions
        )
        assert has_subcommands or callable(parser.get_default("handler")), name


def test_a_command_module_that_fails_to_import_fails_the_parser(monkeypatch) -> None:
    monkeypatch.setattr(cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES, "broker.commands.gone"))
    with pytest.raises(ModuleNotFoundError):
        cli.build_parser()


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
