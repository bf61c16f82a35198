"""The index: private, round-trips, refuses corrupt content with a fix, holds no secrets."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from broker.errors import StoreError
from broker.private_files import PrivateFiles
from broker.store.index import Index, IndexFile, SessionRow
from providers.base import Claims


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
    PrivateFiles(StoreError).write_bytes(store / "index.json", content)
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
