"""``broker completion``: the scripts sourced in real shells, their functions called as the
shell calls them at a Tab, names coming from the real CLI (``broker`` on PATH) — from
``broker.toml`` and the index only: no D-Bus session, so nothing could sign in or read the
keyring."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from broker.store.index import AssignmentRow, IndexFile
from tests.client_support import write_config
from tests.conftest import REPO

pytestmark = pytest.mark.integration


@pytest.fixture
def shell_env(broker_home: Path, tmp_path: Path) -> dict[str, str]:
    """``broker`` on PATH; config with provider corp and profiles dev/ops; one assignment
    profile recorded in the index (as ``configure aws`` leaves it)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "broker"
    wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} -m broker "$@"\n')
    wrapper.chmod(0o700)
    row = AssignmentRow(
        profile="sandbox.ReadOnly",
        provider="corp",
        account="777788889999",
        account_name="sandbox",
        permission_set="ReadOnly",
        role="AWSReservedSSO_ReadOnly_0123456789abcdef",
        duration=3600,
    )
    from dataclasses import replace

    IndexFile(broker_home / "store").update(
        lambda index: replace(index, assignments={row.profile: row})
    )
    env = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    env.update(
        PATH=os.pathsep.join([str(bin_dir), env.get("PATH", "")]),
        PYTHONPATH=str(REPO),
        BROKER_HOME=str(broker_home),
        BROKER_CONFIG=str(write_config(tmp_path / "config")),
    )
    return env


def _script(shell: str, env: dict[str, str], tmp_path: Path) -> Path:
    result = subprocess.run(
        ["broker", "completion", shell], capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr
    path = tmp_path / f"broker.{shell}"
    path.write_text(result.stdout)
    return path


def _bash_complete(script: Path, env: dict[str, str], *words: str) -> list[str]:
    """Call the completion function as bash does at a Tab after ``words``."""
    quoted = " ".join("'" + w.replace("'", "'\\''") + "'" for w in words)
    program = (
        f"source {script}\n"
        f"COMP_WORDS=(broker {quoted}); COMP_CWORD={len(words)}\n"
        "_broker\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    result = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", program],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr
    return sorted(line for line in result.stdout.splitlines() if line)


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (("cred",), ["credential-process"]),
        (("exec", ""), ["dev", "ops", "sandbox.ReadOnly"]),
        (("exec", "--duration", "1h", "s"), ["sandbox.ReadOnly"]),
        (("credential-process", "--profile", ""), ["dev", "ops", "sandbox.ReadOnly"]),
        (("login", ""), ["corp"]),
        (
            ("access-keys", "create", "svc", "--account", ""),
            ["111122223333", "444455556666", "777788889999"],
        ),
        (("sessions", ""), ["clear"]),
        (("sessions", "clear", "o"), ["ops"]),
        (("configure", "aws", "--pr"), ["--prune"]),
        (("--config", "/nonexistent-dir", "ex"), ["exec"]),
        (("completion", "b"), ["bash"]),
        (("exec", "dev", "--", "ls"), []),  # another command's words: left to the shell
    ],
)
def test_bash_completes_commands_options_and_names(
    shell_env: dict[str, str], tmp_path: Path, words: tuple[str, ...], expected: list[str]
) -> None:
    script = _script("bash", shell_env, tmp_path)
    assert _bash_complete(script, shell_env, *words) == expected


def test_names_need_no_keyring_and_no_sign_in(shell_env: dict[str, str]) -> None:
    result = subprocess.run(
        ["broker", "completion", "--names", "profiles"],
        capture_output=True,
        text=True,
        env=shell_env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["dev", "ops", "sandbox.ReadOnly"]


def test_a_broken_config_completes_nothing_quietly(
    shell_env: dict[str, str], tmp_path: Path
) -> None:
    script = _script("bash", shell_env, tmp_path)
    (Path(shell_env["BROKER_CONFIG"]) / "broker.toml").write_text("not = [valid\n")
    assert _bash_complete(script, shell_env, "exec", "") == []
    assert _bash_complete(script, shell_env, "ex") == ["exec"]


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_zsh_runs_the_same_function_through_bashcompinit(
    shell_env: dict[str, str], tmp_path: Path
) -> None:
    script = _script("zsh", shell_env, tmp_path)
    program = (
        "autoload -U compinit && compinit -u\n"  # as a ~/.zshrc does before sourcing it
        f"source {script}\n"
        "probe() { emulate -L sh; COMP_WORDS=(broker exec ''); COMP_CWORD=2; _broker; "
        'printf "%s\\n" "${COMPREPLY[@]}"; }\n'
        "probe\n"
    )
    result = subprocess.run(
        ["zsh", "-f", "-c", program], capture_output=True, text=True, env=shell_env, check=False
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert result.stdout.split() == ["dev", "ops", "sandbox.ReadOnly"]


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_fish_completes_profiles_and_commands(shell_env: dict[str, str], tmp_path: Path) -> None:
    script = _script("fish", shell_env, tmp_path)

    def complete(line: str) -> list[str]:
        result = subprocess.run(
            ["fish", "--no-config", "-c", f"source {script}; complete -C '{line}'"],
            capture_output=True,
            text=True,
            env=shell_env,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return sorted(entry.split("\t")[0] for entry in result.stdout.splitlines())

    assert complete("broker exec ") == ["dev", "ops", "sandbox.ReadOnly"]
    assert complete("broker credential-process --profile o") == ["ops"]
    assert "credential-process" in complete("broker cred")
