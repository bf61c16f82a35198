"""``broker env`` quoting (checked by a real shell); ``broker exec``'s environment and status."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

from broker.client.exports import credential_env, render_env
from broker.commands.client import ExecInput, run_exec
from broker.minters.base import Credentials

NASTY = "a'b\"c$d`e\\f g;h|i\nj"


def _credentials(secret: str = "s" * 40) -> Credentials:
    return Credentials(
        access_key_id="BKIAEXAMPLE000000001",
        secret_access_key=secret,
        session_token="token/with+chars=",
        expiration=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
    )


def test_env_has_the_sdk_variables_and_region() -> None:
    env = credential_env(_credentials(), "eu-west-1")
    assert env["AWS_CREDENTIAL_EXPIRATION"] == "2030-01-02T03:04:05Z"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert "AWS_REGION" not in credential_env(_credentials(), None)


def test_sh_output_survives_eval_in_a_real_shell() -> None:
    text = render_env(credential_env(_credentials(NASTY), None), "sh")
    script = text + 'printf %s "$AWS_SECRET_ACCESS_KEY"'
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout == NASTY


def test_fish_powershell_and_json_quote_every_value() -> None:
    env = {"AWS_SECRET_ACCESS_KEY": "it's"}
    assert render_env(env, "fish") == "set -gx AWS_SECRET_ACCESS_KEY 'it\\'s'\n"
    assert render_env(env, "powershell") == "$Env:AWS_SECRET_ACCESS_KEY = 'it''s'\n"
    assert json.loads(render_env(env, "json")) == env


def test_exec_passes_credentials_and_the_exit_code_and_drops_shadowing_vars() -> None:
    env = credential_env(_credentials(), "eu-west-1")
    code = (
        "import json, os, sys\n"
        "keys = ['AWS_ACCESS_KEY_ID', 'AWS_PROFILE', 'AWS_REGION', 'BROKER_PROFILE', 'KEEP']\n"
        "print(json.dumps({k: os.environ.get(k) for k in keys}))\n"
        "sys.exit(7)\n"
    )
    base = {"AWS_PROFILE": "other", "KEEP": "yes", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, json; from broker.commands.client import ExecInput, run_exec;"
            f"sys.exit(run_exec(ExecInput('dev', (sys.executable, '-c', {code!r})),"
            f" {env!r}, {base!r}))",
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 7
    seen = json.loads(out.stdout)
    assert seen == {
        "AWS_ACCESS_KEY_ID": "BKIAEXAMPLE000000001",
        "AWS_PROFILE": None,
        "AWS_REGION": "eu-west-1",
        "BROKER_PROFILE": "dev",
        "KEEP": "yes",
    }


def test_exec_reports_signals_and_missing_commands_as_shells_do() -> None:
    assert run_exec(ExecInput("dev", ("sh", "-c", "kill -TERM $$")), {}, {"PATH": "/bin"}) == 143
    assert run_exec(ExecInput("dev", ("no-such-command-here",)), {}, {"PATH": "/bin"}) == 127
