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
