"""OIDCProvider against the fake IdP passes the shared provider conformance suite."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from providers.oidc.provider import OIDCProvider
from providers.testing import ProviderConformance
from tests.unit.oidc.fake_idp import FakeIdP
from tests.unit.oidc.fakes import BrowserUI, make_context


class TestOIDCProviderConformance(ProviderConformance):
    @pytest.fixture
    def idp(self) -> FakeIdP:
        return FakeIdP()

    @pytest.fixture
    def provider(self, idp: FakeIdP, make_provider) -> OIDCProvider:
        return make_provider(idp)

    @pytest.fixture
    def person(self, idp: FakeIdP) -> BrowserUI:
        return BrowserUI(idp.approve)

    @pytest.fixture
    def expected_subject(self) -> str:
        return "sub-alice"

    @pytest.fixture
    def unreachable_provider(self, tmp_path: Path) -> OIDCProvider:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        table = {"type": "oidc", "issuer": f"http://127.0.0.1:{port}", "client_id": "c"}
        return OIDCProvider.from_config("corp", table, make_context(tmp_path / "u"))
