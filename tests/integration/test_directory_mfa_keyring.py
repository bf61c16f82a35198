"""MFA enrolment against a real Secret Service (gnome-keyring on a private D-Bus bus).

The whole flow runs inside one `dbus-run-session -- scripts/with-keyring` so the keyring the
seed is written to is the one it is read back from: enable prints the otpauth URI once, the
script derives the current code from it, and verify must accept it exactly once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import CONFIG, REPO

pytestmark = [pytest.mark.integration, pytest.mark.keyring]

_FLOW = r"""
set -eu
python -m broker directory mfa enable alice --json > "$WORK/enrol.json"
CODE=$(python -c 'import json,os,sys,urllib.parse as u,pyotp
uri = json.load(open(os.environ["WORK"] + "/enrol.json"))["uri"]
print(pyotp.TOTP(u.parse_qs(u.urlparse(uri).query)["secret"][0]).now())')
python -m broker directory mfa verify alice "$CODE"
if python -m broker directory mfa verify alice "$CODE"; then echo REPLAY-ACCEPTED; fi
python -m broker directory mfa list alice
python -c 'import keyring; print(keyring.get_keyring().__module__)'
"""


def test_mfa_seed_round_trips_through_the_secret_service(tmp_path) -> None:
    for tool in ("dbus-run-session", "gnome-keyring-daemon"):
        assert shutil.which(tool), f"{tool} is missing: run scripts/setup"
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "BROKER_HOME": str(home),
        "BROKER_CONFIG": str(CONFIG),
        "WORK": str(tmp_path),
        "PATH": f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}",
        "BROKER_TEST_KEYRING_HOME": str(tmp_path / "keyring"),
    }
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    result = subprocess.run(
        ["dbus-run-session", "--", str(REPO / "scripts" / "with-keyring"), "sh", "-c", _FLOW],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "REPLAY-ACCEPTED" not in lines
    assert lines[-2:] == ["totp", "keyring.backends.SecretService"]
    assert "code accepted for alice" in result.stderr
    assert "code refused for alice" in result.stderr
    seed = __import__("json").loads((tmp_path / "enrol.json").read_text())["uri"]
    secret = seed.split("secret=")[1].split("&")[0]
    for path in home.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
