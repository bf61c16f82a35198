"""The refresher's service definitions run the real command and stay quiet and private."""

from __future__ import annotations

import configparser
import plistlib

from tests.conftest import CONFIG


def test_systemd_unit_runs_refresh_watch_with_a_private_umask() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(CONFIG / "service" / "access-broker-refresh.service")
    service = unit["Service"]
    assert service["ExecStart"].split()[1:] == ["refresh", "--watch"]
    assert service["UMask"] == "0077"
    assert service["Restart"] == "on-failure"
    assert unit["Install"]["WantedBy"] == "default.target"


def test_launchd_plist_runs_refresh_watch_with_a_private_umask() -> None:
    with (CONFIG / "service" / "io.access-broker.refresh.plist").open("rb") as handle:
        plist = plistlib.load(handle)
    assert plist["ProgramArguments"][1:] == ["refresh", "--watch"]
    assert plist["Umask"] == 0o077
    assert plist["KeepAlive"] == {"SuccessfulExit": False}


def test_systemd_unit_can_create_and_write_its_data_directory() -> None:
    # ProtectSystem=strict leaves only ReadWritePaths writable; a data directory missing at
    # first start must be made before the sandbox (the `+` prefix), or nothing can be written.
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(CONFIG / "service" / "access-broker-refresh.service")
    service = unit["Service"]
    data = "%h/.local/share/access-broker"
    assert service["ProtectSystem"] == "strict"
    assert service["ReadWritePaths"] == data
    assert service["ExecStartPre"] == f"+/bin/mkdir -p -m 0700 {data}"
    assert "BROKER_CONFIG" not in service.get("Environment", "")  # the lookup order decides


def test_systemd_unit_passes_systemds_own_check(tmp_path) -> None:
    import os
    import shutil
    import subprocess

    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing (Debian package systemd)"
    home = tmp_path / "home"
    (home / ".local" / "bin").mkdir(parents=True)
    fake = home / ".local" / "bin" / "broker"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o700)
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    unit = tmp_path / "access-broker-refresh.service"
    shutil.copy(CONFIG / "service" / unit.name, unit)
    result = subprocess.run(
        [analyze, "--user", "verify", str(unit)],
        env={**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(runtime)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr
