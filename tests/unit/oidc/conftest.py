from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from providers.oidc.provider import OIDCProvider
from providers.oidc.settings import load_settings
from tests.unit.oidc.fake_idp import CLIENT_ID, ISSUER, FakeIdP
from tests.unit.oidc.fakes import BrowserUI, make_context


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def idp() -> FakeIdP:
    return FakeIdP()


@pytest.fixture
def make_provider(tmp_path: Path):
    def make(idp: FakeIdP, clock: FakeClock | None = None, **settings: object) -> OIDCProvider:
        table = {"type": "oidc", "issuer": ISSUER, "client_id": CLIENT_ID, **settings}
        extra = {}
        if clock is not None:
            extra = {"sleep": clock.sleep, "now": clock.time, "clock": clock.time}
            idp.clock = clock.time
        return OIDCProvider(
            "corp",
            load_settings("corp", table),
            make_context(tmp_path / "data"),
            transport=httpx.MockTransport(idp),
            **extra,
        )

    return make


@pytest.fixture
def browser(idp: FakeIdP) -> BrowserUI:
    return BrowserUI(idp.approve)
