"""Only the front ends find the data directory and the database; everything below is given them.

The front ends (the CLI entry and its commands, the terminal app's start) resolve the data
directory (``broker.data_location.data_dir``) and the configured database URL
(``broker.config.loader.configured_database_url``, read from the environment) once and pass
them down, as a path or inside the state handle (``broker.sts.state_handle``). A module below
that looked either up itself could disagree with its caller (a test's directory, the terminal
app's state) and would bring back the per-call-site choices the one state removed. This test
parses every module and fails on an import of either lookup from the modules that define it, or
a call of it, outside the allow-list below.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ROOTS = (REPO / "broker", REPO / "providers")

FRONT_ENDS: dict[str, str] = {
    "broker/cli.py": "the command line's entry (the crash log, the fast path)",
    "broker/tui/app.py": "the terminal app's start (app_services)",
    "broker/data_location.py": "where the rule is defined",
    "broker/config/loader.py": "re-exports the rule for the commands",
    "broker/config/__init__.py": "re-exports it too",
}
_DEFINERS = {"broker.config", "broker.config.loader", "broker.data_location"}
_LOOKUPS = {"data_dir", "configured_database_url"}


def _lookups(tree: ast.AST) -> list[int]:
    """Lines that import a lookup (``_LOOKUPS``) from where it is defined, or call one."""
    found: list[int] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in _DEFINERS:
            if any(alias.name in _LOOKUPS for alias in node.names):
                found.append(node.lineno)
        if isinstance(node, ast.Call):
            function = node.func
            if isinstance(function, ast.Name) and function.id in _LOOKUPS:
                found.append(node.lineno)
            if isinstance(function, ast.Attribute) and function.attr in _LOOKUPS:
                found.append(node.lineno)
    return found


def _is_front_end(name: str) -> bool:
    return name in FRONT_ENDS or name.startswith("broker/commands/")


def test_no_module_below_the_front_ends_finds_the_data_directory_or_database() -> None:
    offenders = []
    for root in ROOTS:
        for path in sorted(root.rglob("*.py")):
            name = path.relative_to(REPO).as_posix()
            if _is_front_end(name):
                continue
            for line in _lookups(ast.parse(path.read_text(encoding="utf-8"))):
                offenders.append(f"{name}:{line}")
    assert offenders == [], (
        "take the data directory, or the front end's state handle, as a parameter: "
        + ", ".join(offenders)
    )


def test_the_allow_list_names_only_modules_that_exist() -> None:
    assert [name for name in FRONT_ENDS if not (REPO / name).is_file()] == []


@pytest.mark.parametrize(
    "source",
    [
        "from broker.config import data_dir\n",
        "from broker.config.loader import data_dir as found\n",
        "from broker.data_location import data_dir\n",
        "import broker.config as config\nhome = config.data_dir()\n",
        "def f(data_dir):\n    return data_dir()\n",
        "from broker.config.loader import configured_database_url\n",
        "from broker.config.loader import configured_database_url as url\n",
        "import broker.config.loader as loader\nurl = loader.configured_database_url()\n",
        "def f(configured_database_url):\n    return configured_database_url()\n",
    ],
)
def test_the_check_sees_every_form_of_lookup(source: str) -> None:
    assert _lookups(ast.parse(source))


def test_a_data_directory_passed_as_a_value_is_not_a_lookup() -> None:
    source = "def f(data_dir):\n    return data_dir / 'store'\nx = f(data_dir=home)\n"
    assert _lookups(ast.parse(source)) == []


def test_a_database_url_passed_as_a_value_is_not_a_lookup() -> None:
    source = "def f(state):\n    return open_sts_state(state.database_url, state.data_dir)\n"
    assert _lookups(ast.parse(source)) == []
