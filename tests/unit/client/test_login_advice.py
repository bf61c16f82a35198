"""What a headless refusal tells a person to run: the command that works for the provider's
kind. A capture-only SAML provider (``aws_federation = true``) refuses plain ``broker login``,
so its advice names ``--saml-response``; OIDC (web identity) and IAM Identity Center sign in
with plain ``broker login NAME``."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from broker.client.chain import Chain
from broker.config import load_config
from broker.errors import ReauthenticationRequired
from broker.login_advice import login_advice_for
from tests.chain_support import DEV, Rig
from tests.conftest import one_line

CONFIG = """\
[providers.corp]
type = "saml"
idp_entity_id = "https://idp.example.test/saml/metadata"
idp_certificate = "idp.pem"
aws_federation = true

[providers.sso]
type = "saml"
idp_entity_id = "https://idp.example.test/saml/metadata"
sso_url = "https://idp.example.test/sso"
idp_certificate = "idp.pem"
sp_entity_id = "urn:example:broker"

[providers.web]
type = "oidc"
issuer = "https://idp.example.com"
client_id = "broker"
aws_federation = true

[providers.work]
type = "aws-identity-center"
start_url = "https://example.awsapps.com/start"
region = "eu-west-1"
"""


@pytest.fixture
def advice(tmp_path: Path):  # type: ignore[no-untyped-def]
    (tmp_path / "broker.toml").write_text(CONFIG)
    return login_advice_for(load_config(tmp_path))


def test_each_kind_of_provider_gets_the_command_that_works_for_it(advice) -> None:  # type: ignore[no-untyped-def]
    assert advice("corp").startswith("run `broker login corp --saml-response -` and paste")
    assert advice("sso") == "run `broker login sso`"  # its IdP posts to our loopback ACS
    assert advice("web") == "run `broker login web`"
    assert advice("work") == "run `broker login work`"
    assert advice("unknown") == "run `broker login unknown`"


def test_the_chain_names_the_capture_command_when_the_session_has_ended(
    rig: Rig,
    advice,  # type: ignore[no-untyped-def]
) -> None:
    chain = dataclasses.replace(rig.chain(), login=advice)
    chain.credentials(DEV)  # DEV's provider is "corp", here a capture-only SAML provider
    session = rig.store.session("corp")
    assert session is not None
    rig.store.save_session("corp", dataclasses.replace(session, refresh_token=None))
    rig.clock.advance(timedelta(hours=2))
    with pytest.raises(ReauthenticationRequired) as ended:
        chain.credentials(DEV)
    line = one_line(str(ended.value))
    assert line.startswith("the corp session has ended: run `broker login corp --saml-response -`")
    rig.store.forget_session("corp")
    with pytest.raises(ReauthenticationRequired) as signed_out:
        chain.credentials(DEV, force=True)
    assert "not signed in to corp: run `broker login corp --saml-response -`" in str(
        signed_out.value
    )


def test_the_default_chain_keeps_the_plain_command(rig: Rig) -> None:
    rig.store.forget_session("corp")
    with pytest.raises(ReauthenticationRequired) as refused:
        Chain(
            store=rig.store, minter=lambda _p: rig.minter, provider=lambda _n: rig.idp
        ).credentials(DEV)
    assert str(refused.value) == "not signed in to corp: run `broker login corp`"


def test_the_terminal_app_words_the_same_advice_with_its_key(advice) -> None:  # type: ignore[no-untyped-def]
    assert advice("sso").tui == "press s to sign in to sso again"
    assert advice("web").tui == "press s to sign in to web again"
    assert advice("work").tui == "press s to sign in to work again"
    captured = advice("corp")
    assert captured.tui == (
        "press s and paste a new SAMLResponse for corp (captured on its way to AWS)"
    )
    for name in ("corp", "sso", "web", "work"):
        assert advice(name).provider == name
        assert "broker login" not in advice(name).tui


def test_a_refusal_carries_both_wordings_and_shows_the_command_line_one(
    rig: Rig,
    advice,  # type: ignore[no-untyped-def]
) -> None:
    chain = dataclasses.replace(rig.chain(), login=advice)
    rig.store.forget_session("corp")
    with pytest.raises(ReauthenticationRequired) as signed_out:
        chain.credentials(DEV, force=True)
    error = signed_out.value
    assert str(error).startswith("not signed in to corp: run `broker login corp --saml-response -`")
    assert error.sign_in is not None and error.sign_in.provider == "corp"
    assert error.tui_message == (
        "not signed in to corp: press s and paste a new SAMLResponse for corp (captured on its "
        "way to AWS)"
    )


def test_an_error_without_sign_in_advice_reads_the_same_in_both_front_ends() -> None:
    from broker.errors import StoreError

    error = StoreError("the OS keyring is locked: unlock it and retry")
    assert error.sign_in is None
    assert error.tui_message == str(error) == "the OS keyring is locked: unlock it and retry"


def test_the_advice_survives_copying_and_pickling_with_its_error(advice) -> None:  # type: ignore[no-untyped-def]
    import copy
    import pickle

    from broker.errors import ReauthenticationRequired

    error = ReauthenticationRequired("the corp session has ended: ", sign_in=advice("corp"))
    for again in (copy.deepcopy(error), pickle.loads(pickle.dumps(error))):
        assert str(again) == str(error)
        assert again.sign_in is not None and again.sign_in.provider == "corp"
        assert again.tui_message == error.tui_message
