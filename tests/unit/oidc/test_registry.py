"""The built-in OIDC and embedded providers load by name through the entry-point group, and
the key sets provider types publish locally are gathered from them."""

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


class _Publishes:
    """A provider type that publishes one issuer's keys locally (only the hook matters here)."""

    issuer = "https://local.idp.test"

    @classmethod
    def local_key_sets(cls, data_dir):
        return {cls.issuer: f"{cls.__name__}:{data_dir}"}


class _AlsoPublishes(_Publishes):
    pass


class _Other(_Publishes):
    issuer = "https://other.idp.test"


def _installed(monkeypatch, kinds: dict[str, type | None]) -> None:
    def load(name: str) -> type:
        kind = kinds[name]
        if kind is None:
            raise ConfigError(f"provider type {name!r} is registered but cannot be loaded")
        return kind

    monkeypatch.setattr(registry, "installed", lambda: sorted(kinds))
    monkeypatch.setattr(registry, "load", load)


def test_local_key_sets_come_from_the_types_that_publish_them(monkeypatch, tmp_path) -> None:
    _installed(monkeypatch, {"a": _Publishes, "broken": None, "plain": OIDCProvider, "z": _Other})
    sets = registry.local_key_sets(tmp_path)
    assert sets == {
        _Publishes.issuer: f"_Publishes:{tmp_path}",
        _Other.issuer: f"_Other:{tmp_path}",
    }
    assert registry.local_keys(None) is None
    assert registry.local_keys(tmp_path)() == sets  # type: ignore[misc]


def test_an_issuer_two_types_claim_is_trusted_from_neither(monkeypatch, tmp_path) -> None:
    _installed(monkeypatch, {"a": _Publishes, "b": _AlsoPublishes, "c": _Publishes, "z": _Other})
    assert list(registry.local_key_sets(tmp_path)) == [_Other.issuer]
