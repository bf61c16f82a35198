"""README's exit-code table is the code's: every error class and every code the CLI returns."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re

import pytest

import broker.cli
import broker.commands
import broker.errors
from tests.conftest import REPO


def _table() -> dict[int, list[str]]:
    """Exit code -> the error classes README names for it."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Exit codes\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[int, list[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.replace("\\|", "/").strip().strip("|").split("|")]
        if len(cells) != 3 or not re.fullmatch(r"[0-9, ]+", cells[0]):
            continue
        for code in cells[0].split(","):
            rows[int(code)] = re.findall(r"`(\w+)`", cells[2])
    return rows


def _error_classes() -> list[type[broker.errors.BrokerError]]:
    return [
        cls
        for _name, cls in inspect.getmembers(broker.errors, inspect.isclass)
        if issubclass(cls, broker.errors.BrokerError) and cls is not broker.errors.BrokerError
    ]


def test_every_error_class_is_in_the_table_with_its_exit_code() -> None:
    by_class = {name: code for code, names in _table().items() for name in names}
    assert len(_error_classes()) >= 10
    for cls in _error_classes():
        # A subclass without a row of its own is covered by its parent's row.
        listed = next((by_class[c.__name__] for c in cls.__mro__ if c.__name__ in by_class), None)
        assert listed == cls.exit_code, f"{cls.__name__} (exit {cls.exit_code}) vs README"
    for name, code in by_class.items():
        assert getattr(broker.errors, name).exit_code == code, name


def _codes_in_source() -> set[int]:
    """Every literal exit code the CLI and its commands return (not computed ones)."""
    modules = [broker.cli] + [
        importlib.import_module(f"broker.commands.{info.name}")
        for info in pkgutil.iter_modules(broker.commands.__path__)
    ]
    source = "\n".join(inspect.getsource(module) for module in modules)
    return {int(n) for n in re.findall(r"\breturn (\d+)\b(?! -)", source)}


def test_the_table_lists_exactly_the_codes_the_code_uses() -> None:
    used = _codes_in_source() | {cls.exit_code for cls in _error_classes()}
    table = set(_table())
    assert used - table == set(), f"codes missing from README: {sorted(used - table)}"
    assert table - used == set(), f"README lists codes nothing returns: {sorted(table - used)}"


class _Exploding:
    def __init__(self, error: BaseException) -> None:
        self.error = error

    def parse_args(self, _args: list[str]) -> None:
        raise self.error


@pytest.mark.parametrize(
    ("raised", "code"),
    [
        (KeyboardInterrupt(), 130),
        (BrokenPipeError(), 141),
        (broker.errors.StsError("refused"), 7),
        (broker.errors.KeyringUnavailableError("locked"), 8),
    ],
)
def test_main_returns_the_code_the_table_gives(monkeypatch, raised, code) -> None:
    monkeypatch.setattr(broker.cli, "build_parser", lambda: _Exploding(raised))
    assert broker.cli.main(["anything"]) == code
    assert code in _table()


def test_a_bad_argument_exits_with_the_tables_usage_code(run_broker) -> None:
    result = run_broker("--no-such-option")
    assert result.returncode == 2
    assert _table()[2] == ["UsageError"]
