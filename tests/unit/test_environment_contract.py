"""No module under ``broker/`` below the front ends reads the process environment.

The front ends (the CLI entry and its commands, the terminal app) read settings once and pass
them down as values (``broker serve``'s workers get theirs from the serve command as an
argument); a core module that read ``os.environ`` itself would bring back the per-call-site
choices the one state removed. import-linter cannot see attribute reads, so this test parses
every module and fails on ``os.environ`` / ``os.getenv`` / ``os.putenv`` (or
``from os import environ``) outside the allow-list below.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BROKER = Path(__file__).resolve().parents[2] / "broker"

ANYWHERE = "*"
ALLOWED: dict[str, str] = {
    # front ends: the CLI entry, its commands, the terminal app
    "cli.py": ANYWHERE,
    "__main__.py": ANYWHERE,
    "terminal_ui.py": ANYWHERE,
    "tui/app.py": ANYWHERE,
    "tui/options.py": ANYWHERE,  # NO_COLOR and the like, read as the app starts
    "tui/screens/config_errors.py": ANYWHERE,  # $EDITOR to open a broken file
    "tui/screens/console_link.py": ANYWHERE,  # whether a browser can open here
    "tui/screens/signin.py": ANYWHERE,  # SSH_CONNECTION: show the code, not a browser
    # process-level, by necessity
    "config/loader.py": ANYWHERE,  # where configuration lives, the database URL
    "data_location.py": ANYWHERE,  # where data lives (read by the front ends only)
    "store/revocation_stamp.py": ANYWHERE,  # the fast path's check, same reason
    "keyring_gate/gate.py": ANYWHERE,  # keyring backend selection (D-Bus session)
    "store/secret_service.py": ANYWHERE,  # same
    "store/crash_points.py": ANYWHERE,  # crash points for the crash-safety tests
}
_NAMES = {"environ", "getenv", "putenv", "environb", "getenvb", "unsetenv"}


def _reads(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, enclosing function) of every environment access in ``tree``."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, function: str) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function = node.name
        if (
            isinstance(node, ast.Attribute)
            and node.attr in _NAMES
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        ):
            found.append((node.lineno, function))
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            if any(alias.name in _NAMES for alias in node.names):
                found.append((node.lineno, function))
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(tree, "<module>")
    return found


def _modules() -> list[Path]:
    return sorted(path for path in BROKER.rglob("*.py") if "commands" not in path.parts)


def test_no_module_below_the_front_ends_reads_the_environment() -> None:
    offenders = []
    for path in _modules():
        name = path.relative_to(BROKER).as_posix()
        allowed = ALLOWED.get(name)
        for line, function in _reads(ast.parse(path.read_text(encoding="utf-8"))):
            if allowed == ANYWHERE or allowed == function:
                continue
            offenders.append(f"broker/{name}:{line} ({function})")
    assert offenders == [], "read the setting in the front end and pass it down: " + ", ".join(
        offenders
    )


def test_the_allow_list_names_only_modules_that_exist() -> None:
    missing = [name for name in ALLOWED if not (BROKER / name).is_file()]
    assert missing == []


@pytest.mark.parametrize(
    "source",
    [
        "import os\nvalue = os.environ.get('X')\n",
        "import os\nvalue = os.getenv('X')\n",
        "from os import environ\n",
        "import os\ndef f():\n    os.environ['X'] = '1'\n",
    ],
)
def test_the_check_sees_every_form_of_access(source: str) -> None:
    assert _reads(ast.parse(source))


def test_the_server_reads_no_environment() -> None:
    """``broker serve``'s workers get ``WorkerSettings`` as an argument, not variables."""
    for path in sorted((BROKER / "server").glob("*.py")):
        assert _reads(ast.parse(path.read_text(encoding="utf-8"))) == [], path.name
