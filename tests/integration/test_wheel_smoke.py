"""The wheel built from this repository works on its own: installed into a fresh virtual
environment and run from an empty directory with no checkout, no BROKER_CONFIG and an empty
home, it starts on the packaged demo configuration (docs/configuration.md, lookup order)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = [pytest.mark.slow, pytest.mark.integration]

_SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md")
_TREES = ("broker", "providers", "config")


def _run(args: list[str], *, cwd: Path, env: dict[str, str], timeout: float = 600) -> str:
    result = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{args}: {result.stderr[-2000:]}"
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``bin/`` of a fresh venv holding only the wheel built from a copy of the sources."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    source.mkdir()
    for name in _SOURCES:
        shutil.copy2(REPO / name, source / name)
    for name in _TREES:
        shutil.copytree(
            REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BROKER_", "PYTHON"))}
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(root / "dist"), "."],
        cwd=source,
        env=env,
    )
    [wheel] = (root / "dist").glob("access_broker-*.whl")
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=root, env=env)
    _run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)], cwd=root, env=env
    )
    shutil.rmtree(source)  # nothing of the checkout is left to fall back on
    return venv / "bin"


@pytest.fixture
def clean(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """An empty working directory and an environment with an empty home and no broker vars."""
    empty = tmp_path / "empty"
    empty.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "HOME": str(home),
        "PATH": "/usr/bin:/bin",
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "LANG": "C.UTF-8",
    }
    return empty, env


def test_the_installed_wheel_runs_on_its_packaged_demo(installed: Path, clean) -> None:
    empty, env = clean
    broker = str(installed / "broker")
    assert _run([broker, "--version"], cwd=empty, env=env).strip() == "broker 0.1.0"

    validated = subprocess.run(
        [broker, "config", "validate", "--json"], cwd=empty, env=env, capture_output=True, text=True
    )
    assert validated.returncode == 0, validated.stderr
    assert "configuration valid: 0 error(s)" in validated.stderr
    files = {p["file"] for p in json.loads(validated.stdout)}
    assert files and all("/site-packages/broker/defaults/" in f for f in files), files

    listed = subprocess.run(
        [broker, "assignments", "--user", "alice", "--json"],
        cwd=empty,
        env=env,
        capture_output=True,
        text=True,
    )
    assert listed.returncode == 0, listed.stderr
    assignments = json.loads(listed.stdout)
    assert {"AdministratorAccess", "PowerUserAccess"} <= {
        a["permission_set"] for a in assignments["assignments"]
    }
    assert list(empty.iterdir()) == [], "the broker wrote into the working directory"


def test_init_then_the_user_configuration_is_read(installed: Path, clean) -> None:
    empty, env = clean
    broker = str(installed / "broker")
    said = _run([broker, "init", "--provider", "oidc"], cwd=empty, env=env)
    written = Path(env["XDG_CONFIG_HOME"]) / "access-broker"
    assert str(written) in said
    validated = subprocess.run(
        [broker, "config", "validate", "--json"], cwd=empty, env=env, capture_output=True, text=True
    )
    assert validated.returncode == 0, validated.stderr
    assert all(p["file"].startswith(str(written)) for p in json.loads(validated.stdout))
    providers = _run([broker, "providers", "--json"], cwd=empty, env=env)
    assert "corp" in providers


def test_configure_aws_from_a_temporary_venv_warns(installed: Path, clean) -> None:
    empty, env = clean
    aws_config = Path(env["HOME"]) / ".aws" / "config"
    said = _run(
        [str(installed / "broker"), "configure", "aws", "--file", str(aws_config)],
        cwd=empty,
        env=env,
    )
    assert f"the profiles will run {installed / 'broker'}, but it is under the temporary" in said
