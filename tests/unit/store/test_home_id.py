"""The data directory's keyring namespace: random, stable, private, one per directory."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from broker.errors import StoreError
from broker.keyring_gate.home_id import HOME_ID_FILE, home_id, read_home_id, scoped_key


def test_created_once_private_and_then_stable(tmp_path: Path) -> None:
    assert read_home_id(tmp_path) is None  # the hot path never creates it
    first = home_id(tmp_path)
    assert len(first) == 32 and int(first, 16) >= 0
    assert home_id(tmp_path) == first == read_home_id(tmp_path)
    assert (tmp_path / HOME_ID_FILE).stat().st_mode & 0o777 == 0o600
    assert home_id(tmp_path / "other") != first
    assert scoped_key(first, "profile:dev") == f"{first}/profile:dev"


def _race(home: str, out: str) -> None:
    Path(out).write_text(home_id(Path(home)))


def test_racing_processes_agree_on_one_id(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    outs = [tmp_path / f"id-{i}" for i in range(6)]
    procs = [context.Process(target=_race, args=(str(tmp_path / "h"), str(o))) for o in outs]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=60)
    assert len({o.read_text() for o in outs}) == 1


def test_a_readable_or_planted_id_file_is_not_used(tmp_path: Path) -> None:
    home_id(tmp_path)
    path = tmp_path / HOME_ID_FILE
    path.chmod(0o644)
    assert read_home_id(tmp_path) is None  # fast path: falls back to the full path
    with pytest.raises(StoreError, match="chmod 600"):
        home_id(tmp_path)
    path.unlink()
    (tmp_path / "elsewhere").write_text("0" * 32)
    (tmp_path / "elsewhere").chmod(0o600)
    path.symlink_to(tmp_path / "elsewhere")
    assert read_home_id(tmp_path) is None
    with pytest.raises(StoreError, match="symlink"):
        home_id(tmp_path)


def test_a_damaged_id_says_what_to_do(tmp_path: Path) -> None:
    home_id(tmp_path)
    (tmp_path / HOME_ID_FILE).write_text("not-an-id")
    assert read_home_id(tmp_path) is None
    with pytest.raises(StoreError, match=r"delete it and run `broker login` again"):
        home_id(tmp_path)


def test_fast_path_and_commands_share_one_data_directory_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from broker import data_location
    from broker.config import loader

    assert loader.data_dir is data_location.data_dir  # one definition, no copy to drift
    monkeypatch.delenv("BROKER_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert data_location.data_dir() == tmp_path / "xdg" / "access-broker"
    created = home_id(loader.data_dir())
    assert read_home_id(data_location.data_dir()) == created
