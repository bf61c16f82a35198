"""The chain's fast tier for every client unit test that wants it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chain_support import Rig, make_rig


@pytest.fixture
def rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Rig:
    """The real chain and store over an in-memory keyring, signed in to ``corp``, at START."""
    monkeypatch.delenv("BROKER_DATABASE_URL", raising=False)
    return make_rig(tmp_path)
