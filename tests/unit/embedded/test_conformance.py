"""The embedded IdP passes the provider conformance suite through its real login page."""

from __future__ import annotations

import pytest

from providers.embedded.provider import EmbeddedProvider
from providers.embedded.users import subject_for
from providers.testing import ProviderConformance
from tests.unit.embedded.conftest import LoginPagePerson


class TestEmbeddedProviderConformance(ProviderConformance):
    @pytest.fixture
    def provider(self, embedded: EmbeddedProvider) -> EmbeddedProvider:
        return embedded

    @pytest.fixture
    def person(self) -> LoginPagePerson:
        return LoginPagePerson("carol")

    @pytest.fixture
    def expected_subject(self) -> str:
        return subject_for("carol")

    @pytest.fixture
    def unreachable_provider(self) -> None:
        return None  # in-process: there is no network peer to lose
