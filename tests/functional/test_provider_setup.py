"""The provider setup screen's steps that need no IdP (the peers' end-to-end tests are in
tests/integration), and its core: names, the group map, the TOML written, and a setup that
fails validation leaving the configuration as it was."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from broker.errors import ConfigError
from broker.tui.provider_setup import (
    Draft,
    IdentityMapping,
    check_name,
    render_table,
    write_setup,
)
from broker.tui.screens.provider_setup import ProviderSetupScreen, parse_group_map
from broker.tui.screens.welcome import WelcomeScreen
from tests.conftest import CONFIG
from tests.functional.screen_text import flat_text

pytestmark = pytest.mark.anyio


@pytest.fixture
def config_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broker_home: Path) -> Path:
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    monkeypatch.setenv("BROKER_CONFIG", str(config))
    return config


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_providers_command_opens_the_setup_and_says_what_is_missing(make_app, size) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await pilot.press("colon", *"providers", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ProviderSetupScreen)
        text = flat_text(app)
        assert "Portal › Providers" in text and "Issuer URL" in text
        await pilot.press("ctrl+t")  # nothing filled in: one line naming the next step
        await pilot.pause()
        assert "name the provider first" in flat_text(app)
        await pilot.press(*"corp", "ctrl+t")
        await pilot.pause()
        assert "check the issuer first" in flat_text(app)


async def test_the_welcome_offers_the_company_sign_in(make_app) -> None:
    app = make_app(welcome=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, WelcomeScreen)
        assert "Add your company's sign-in" in flat_text(app)
        await pilot.click("#providers")
        await pilot.pause()
        assert isinstance(app.screen, ProviderSetupScreen)


def test_parse_group_map() -> None:
    assert parse_group_map("eng=engineering, ops = on-call\nfin=finance") == {
        "eng": "engineering",
        "ops": "on-call",
        "fin": "finance",
    }
    assert parse_group_map("") == {}
    with pytest.raises(ValueError, match="write idp-group=directory-group"):
        parse_group_map("eng")


def test_render_table_is_toml_that_reads_back() -> None:
    table = {"type": "oidc", "issuer": 'https://x.test/"q"', "scopes": ["openid"], "leeway": 5}
    text = render_table("providers.corp", table)
    assert tomllib.loads(text) == {"providers": {"corp": table}}


def test_names_must_be_new_and_plain(config_copy: Path) -> None:
    assert check_name("corp-2", config_copy) == "corp-2"
    with pytest.raises(ConfigError, match="already configured"):
        check_name("demo", config_copy)
    with pytest.raises(ConfigError, match="lowercase letters"):
        check_name("Corp SSO", config_copy)


def test_a_setup_that_fails_validation_leaves_the_configuration_as_it_was(
    config_copy: Path,
) -> None:
    before = {p: p.read_bytes() for p in config_copy.rglob("*") if p.is_file()}
    bad = Draft("corp", "oidc", {"type": "oidc", "issuer": "https://idp.example.test"})
    with pytest.raises(ConfigError, match="client_id: error: required key is missing"):
        write_setup(config_copy, bad, IdentityMapping())
    after = {p: p.read_bytes() for p in config_copy.rglob("*") if p.is_file()}
    backups = {p for p in after if p.name.endswith(".broker-backup")}
    assert {p: b for p, b in after.items() if p not in backups} == before


def test_a_good_setup_keeps_backups_and_validates(config_copy: Path) -> None:
    original = (config_copy / "broker.toml").read_text()
    draft = Draft(
        "corp",
        "oidc",
        {"type": "oidc", "issuer": "https://idp.example.test", "client_id": "broker"},
    )
    mapping = IdentityMapping(user_claim="sub", match_on="name", group_map={"eng": "engineering"})
    backups = write_setup(config_copy, draft, mapping)
    assert config_copy / "broker.toml.broker-backup" in backups
    assert (config_copy / "broker.toml.broker-backup").read_text() == original
    written = tomllib.loads((config_copy / "directory" / "identity.toml").read_text())
    assert written["identity"]["corp"] == {
        "user_claim": "sub",
        "match_on": "name",
        "groups_claim": "groups",
        "unknown_users": "refuse",
        "group_map": {"eng": "engineering"},
    }
    with pytest.raises(ConfigError, match="already configured"):
        write_setup(config_copy, draft, mapping)  # a second time: refused, nothing changed


def test_idp_metadata_is_never_fetched_over_plain_http_off_loopback() -> None:
    from broker.tui.provider_setup import read_saml_metadata

    with pytest.raises(ConfigError, match="over https"):
        read_saml_metadata("http://idp.example.test/metadata")


def test_a_failed_setup_removes_a_file_it_created(config_copy: Path) -> None:
    identity = config_copy / "directory" / "identity.toml"
    identity.unlink()  # a configuration without any identity mapping yet
    bad = Draft("corp", "oidc", {"type": "oidc", "issuer": "https://idp.example.test"})
    with pytest.raises(ConfigError, match="the setup was not written"):
        write_setup(config_copy, bad, IdentityMapping())
    assert not identity.exists()
