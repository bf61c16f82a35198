"""The log file: 0600 in a 0700 directory, refused when others could read it (docs/security.md,
"Files we write"), and a crash report that stays one line when the log cannot be used."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from broker import cli
from broker.config.loader import data_dir
from broker.errors import StoreError
from broker.logs import log_file
from tests.conftest import one_line


def test_log_file_is_private(broker_home: Path) -> None:
    path = log_file(data_dir())
    assert path == broker_home / "logs" / "broker.log"
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700


def test_a_log_directory_others_can_read_is_refused(broker_home: Path) -> None:
    logs = broker_home / "logs"
    logs.mkdir(mode=0o700)
    logs.chmod(0o755)
    with pytest.raises(StoreError, match="chmod 700"):
        log_file(data_dir())
    assert not (logs / "broker.log").exists()


def test_a_log_file_others_can_read_is_refused(broker_home: Path) -> None:
    logs = broker_home / "logs"
    logs.mkdir(mode=0o700)
    (logs / "broker.log").touch(mode=0o644)
    (logs / "broker.log").chmod(0o644)
    with pytest.raises(StoreError, match="chmod 600"):
        log_file(data_dir())


def test_a_symlinked_log_file_is_not_followed(broker_home: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.txt"
    target.write_text("")
    target.chmod(0o600)
    logs = broker_home / "logs"
    logs.mkdir(mode=0o700)
    (logs / "broker.log").symlink_to(target)
    with pytest.raises(StoreError):
        log_file(data_dir())
    assert target.read_text() == ""


def test_each_data_directory_gets_its_own_log(
    broker_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = log_file(data_dir())
    other = tmp_path / "other-home"
    other.mkdir(mode=0o700)
    monkeypatch.setenv("BROKER_HOME", str(other))
    assert log_file(data_dir()) == other / "logs" / "broker.log" != first


def test_crash_with_an_unusable_log_is_still_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, broker_home: Path
) -> None:
    logs = broker_home / "logs"
    logs.mkdir(mode=0o700)
    os.chmod(logs, 0o777)

    def boom() -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(cli, "build_parser", boom)
    code = cli.main(["whatever"])
    line = one_line(capsys.readouterr().err)
    assert code == 70
    assert "internal error (RuntimeError)" in line and "chmod 700" in line


def test_a_missing_data_directory_is_created_private(broker_home: Path) -> None:
    broker_home.rmdir()
    log_file(data_dir())
    assert broker_home.stat().st_mode & 0o777 == 0o700
