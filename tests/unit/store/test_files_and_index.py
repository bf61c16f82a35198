"""Private files and the index: refuse what others could read, write, or own."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from broker.errors import StoreError
from broker.store.files import ensure_private_dir, read_private_file, write_private_file
from broker.store.index import Index, IndexFile, SessionRow
from providers.base import Claims


def test_write_creates_0600_file_in_0700_directories(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "index.json"
    write_private_file(target, b"{}")
    assert target.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "a").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "a" / "b").stat().st_mode & 0o777 == 0o700
    assert read_private_file(target) == b"{}"
    assert [p.name for p in target.parent.iterdir()] == ["index.json"]  # no temp file left


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_group_or_world_readable_file_is_refused(tmp_path: Path, mode: int) -> None:
    target = tmp_path / "index.json"
    target.write_text("{}")
    target.chmod(mode)
    with pytest.raises(StoreError, match=r"readable or writable by others.*chmod 0600"):
        read_private_file(target)


def test_open_directory_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "store"
    directory.mkdir(mode=0o755)
    directory.chmod(0o755)
    with pytest.raises(StoreError, match="chmod 0700"):
        ensure_private_dir(directory)


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_foreign_owned_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "index.json"
    target.write_text("{}")
    target.chmod(0o600)
    os.chown(target, 4321, -1)
    with pytest.raises(StoreError, match="owned by another user"):
        read_private_file(target)


def test_symlink_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "elsewhere"
    real.write_text("{}")
    real.chmod(0o600)
    link = tmp_path / "index.json"
    link.symlink_to(real)
    with pytest.raises(StoreError):
        read_private_file(link)


def _claims() -> Claims:
    return Claims(provider="corp", issuer="https://idp.example.com", subject="alice")


def test_index_round_trips_and_is_private(tmp_path: Path) -> None:
    store = tmp_path / "store"
    index = IndexFile(store)
    now = datetime.now(UTC)
    row = SessionRow("corp", _claims(), now, now, can_refresh=True)
    index.update(lambda old: Index(profiles=old.profiles, sessions={"corp": row}))
    assert index.read().sessions["corp"] == row
    assert index.path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    "content", [b"not json", b"[]", b'{"version": 99}', b'{"version": 1, "profiles": {"x": {}}}']
)
def test_corrupt_index_is_refused_with_a_fix(tmp_path: Path, content: bytes) -> None:
    store = tmp_path / "store"
    write_private_file(store / "index.json", content)
    with pytest.raises(StoreError, match=r"corrupt; delete it .* holds no secrets"):
        IndexFile(store).read()


def test_index_never_holds_token_fields(tmp_path: Path) -> None:
    store = tmp_path / "store"
    now = datetime.now(UTC)
    row = SessionRow("corp", _claims(), now, now, can_refresh=True)
    IndexFile(store).update(lambda _old: Index(sessions={"corp": row}))
    text = (store / "index.json").read_text()
    for word in ("refresh_token", "id_token", "access_token", "saml_response", "secret"):
        assert word not in text
    assert json.loads(text)["sessions"]["corp"]["claims"]["subject"] == "alice"
