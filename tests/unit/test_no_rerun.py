"""A failed test is never run again to turn a run green (docs/architecture.md, "Scripts").

The test command runs pytest once, and nothing the project installs re-runs failures: a test
that passes on a second try is a defect to fix, and a retry would hide it.
"""

from __future__ import annotations

import importlib.util
import re
import tomllib

from tests.conftest import REPO

RERUNNERS = ("pytest_rerunfailures", "flaky", "pytest_retry", "pytest_replay")


def test_the_test_command_runs_pytest_once_and_never_again() -> None:
    script = (REPO / "scripts" / "test").read_text()
    code = [line for line in script.splitlines() if not line.lstrip().startswith("#")]
    runs = [line for line in code if re.search(r"-m pytest\b|^\s*(exec\s+)?pytest\b", line)]
    assert len(runs) == 1 and runs[0].lstrip().startswith("exec "), runs
    assert not re.search(r"--(lf|last-failed|reruns?|sw|stepwise)\b", script)
    assert not any(re.match(r"\s*(for|while|until)\b", line) for line in code)


def test_no_rerun_plugin_is_installed_or_configured() -> None:
    assert [name for name in RERUNNERS if importlib.util.find_spec(name)] == []
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    addopts = config["tool"]["pytest"]["ini_options"].get("addopts", "")
    assert "rerun" not in addopts and "flaky" not in addopts
    groups = config["project"].get("optional-dependencies", {}).values()
    dependencies = " ".join(
        [*config["project"].get("dependencies", []), *(d for group in groups for d in group)]
    )
    assert not re.search(r"rerunfailures|\bflaky\b|pytest-retry", dependencies)
