"""The built-in OIDC and embedded providers load by name through the entry-point group."""

from __future__ import annotations

import pytest

from broker.errors import ConfigError
from providers import registry
from providers.embedded.provider import EmbeddedProvider
from providers.oidc.provider import OIDCProvider


@pytest.mark.parametrize(("kind", "cls"), [("oidc", OIDCProvider), ("embedded", EmbeddedProvider)])
def test_loads_by_name(kind: str, cls: type) -> None:
    loaded = registry.load(kind)
    assert loaded is cls


def test_oidc_settings_for_another_type_are_refused(tmp_path) -> None:
    from tests.unit.oidc.fakes import make_context

    with pytest.raises(ConfigError, match=r"providers\.x\.type"):
        OIDCProvider.from_config(
            "x",
            {"type": "saml", "issuer": "https://i.example", "client_id": "c"},
            make_context(tmp_path),
        )
