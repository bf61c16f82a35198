"""The terminal app when a sign-in has ended, for SAML through our loopback ACS, capture-only
SAML (``aws_federation``) and IAM Identity Center (the OIDC case, and the one in tmux, are in
``oidc/test_tui_sign_in_again.py``).

Each time the refusal names the app's key (``s``), never the command line's ``broker login``,
in words that fit the provider's kind, and ``s`` opens *that* provider's sign-in: the browser
sign-in through the IdP, the paste field, the device code. Through real parts: the pysaml2 IdP
peer, the Identity Center fake, moto's STS, the real Secret Service.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.functional.screen_text import flat_text
from tests.integration import provider_setup_support as support
from tests.integration.saml_peer import IDP_ENTITY, SP_ENTITY, RunningIdP
from tests.integration.sign_in_again_support import (
    end_sign_in,
    shown_advice,
    signed_in_again,
    status_line,
    until,
)
from tests.integration.sso_peer import RunningFake
from tests.integration.test_aws_saml_tui import (  # noqa: F401 (fixtures)
    aws_idp,
    capture,
    capture_config,
)
from tests.integration.test_identity_center_cli import (  # noqa: F401 (fixtures)
    env,
    peer,
)
from tests.integration.test_provider_setup_saml_tui import (  # noqa: F401 (fixtures)
    browser,
    saml_idp,
)

pytestmark = [pytest.mark.keyring, pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _app():  # type: ignore[no-untyped-def]
    from broker.tui.app import BrokerApp, app_services
    from broker.tui.options import TuiOptions

    return BrokerApp(app_services(), TuiOptions())


# -- SAML through our loopback ACS -----------------------------------------------------------


async def test_an_ended_saml_sign_in_names_s_which_signs_in_at_the_idp_again(
    saml_idp: RunningIdP,  # noqa: F811
    browser: list[str],  # noqa: F811
    secret_service: None,
    broker_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from broker.tui.screens.mint import MintDialog
    from broker.tui.screens.portal import PortalScreen
    from broker.tui.screens.signin import SignInScreen

    config = support.user_config(tmp_path, broker_home)  # the demo IdP stays the default
    with (config / "broker.toml").open("a") as toml:
        toml.write(
            f'\n[providers.corp]\ntype = "saml"\nidp_entity_id = "{IDP_ENTITY}"\n'
            f'sso_url = "{saml_idp.sso_url}"\nidp_certificate = "{saml_idp.cert_path}"\n'
            f'sp_entity_id = "{SP_ENTITY}"\ngroups_attribute = "groups"\n'
        )
    with (config / "directory" / "identity.toml").open("a") as identity:
        identity.write(
            '\n[identity.corp]\nuser_claim = "email"\nmatch_on = "email"\n'
            'groups_claim = "groups"\nunknown_users = "refuse"\n'
        )
    monkeypatch.setenv("BROKER_CONFIG", str(config))
    app = _app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, SignInScreen)
        await pilot.press("down", "enter")  # demo, then corp
        await until(app, pilot, lambda: "payments-prod" in flat_text(app), "the first sign-in")
        assert len(browser) == 1

        end_sign_in(broker_home, "corp")
        await pilot.press("m")
        await until(app, pilot, lambda: isinstance(app.screen, MintDialog), "the mint dialog")
        await pilot.press("enter")
        advice = await shown_advice(app, pilot, "corp")
        assert advice == "the corp session has ended: press s to sign in to corp again"
        await pilot.press("s")  # in the dialog: it closes and corp's sign-in starts
        await until(app, pilot, lambda: len(browser) == 2, "the browser")
        assert browser[1].startswith(saml_idp.sso_url)  # to the IdP, not the demo
        await until(app, pilot, lambda: isinstance(app.screen, PortalScreen)
                    and "Signed in as alice@example.com through corp" in flat_text(app),
                    "the new sign-in")  # fmt: skip
    assert signed_in_again(broker_home, "corp")


# -- capture-only SAML (aws_federation) ------------------------------------------------------


async def test_an_ended_capture_only_sign_in_names_s_which_opens_the_paste_field(
    aws_idp: RunningIdP,  # noqa: F811
    capture_config: Path,  # noqa: F811
    secret_service: None,
    broker_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from textual import events

    from broker.tui.screens.credentials import CredentialsScreen
    from broker.tui.screens.mint import MintDialog
    from broker.tui.screens.saml_capture import SamlCaptureModal
    from broker.tui.widgets.capture_field import CaptureField
    from tests.integration.tmux_support import welcome_seen

    monkeypatch.setenv("BROKER_CONFIG", str(capture_config))
    welcome_seen(broker_home)
    app = _app()

    async def paste_and_sign_in() -> None:
        await until(app, pilot, lambda: isinstance(app.screen, SamlCaptureModal), "the field")
        assert app.screen.provider == "corp"  # type: ignore[attr-defined]
        app.screen.query_one(CaptureField).post_message(events.Paste(capture(aws_idp)))
        await pilot.pause()
        await pilot.press("enter")
        await until(app, pilot, lambda: "Accounts(1/1)" in flat_text(app)
                    and "Signed in as dana@example.com through corp" in flat_text(app),
                    "the sign-in")  # fmt: skip

    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("s", "enter")
        await paste_and_sign_in()

        end_sign_in(broker_home, "corp")
        await pilot.press("m")
        await until(app, pilot, lambda: isinstance(app.screen, MintDialog), "the mint dialog")
        await pilot.press("enter")
        advice = await shown_advice(app, pilot, "corp")
        assert advice == (
            "the corp session has ended: press s and paste a new SAMLResponse for corp "
            "(captured on its way to AWS)"
        )
        await pilot.press("escape")
        await pilot.pause()
        assert advice in status_line(app)
        await pilot.press("s")  # the paste field for corp, at once
        await paste_and_sign_in()
        assert signed_in_again(broker_home, "corp")

        await pilot.press("m")  # the refused mint now works (AssumeRoleWithSAML at moto)
        await until(app, pilot, lambda: isinstance(app.screen, MintDialog), "the mint dialog")
        await pilot.press("enter")
        await until(app, pilot, lambda: isinstance(app.screen, CredentialsScreen), "the mint")


# -- IAM Identity Center ---------------------------------------------------------------------


async def test_an_ended_identity_center_sign_in_names_s_which_shows_a_new_device_code(
    env: dict[str, str],  # noqa: F811
    peer: RunningFake,  # noqa: F811
    broker_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from broker.tui.screens.portal import PortalScreen
    from broker.tui.screens.signin import SignInScreen
    from tests.integration.tmux_support import welcome_seen

    monkeypatch.setenv("BROKER_CONFIG", env["BROKER_CONFIG"])
    opened: list[str] = []
    monkeypatch.setattr("broker.tui.screens.signin.webbrowser.open", opened.append)
    welcome_seen(broker_home)
    app = _app()

    async def approve_the_code() -> None:
        await until(app, pilot, lambda: isinstance(app.screen, SignInScreen)
                    and app.screen.user_code is not None, "the device code")  # fmt: skip
        screen = app.screen
        assert isinstance(screen, SignInScreen) and screen.user_code is not None
        assert screen.user_code in flat_text(app)
        httpx.post(
            f"{peer.url}/_fake/approve", json={"user_code": screen.user_code, "user": "casey"}
        ).raise_for_status()
        await until(app, pilot, lambda: isinstance(app.screen, PortalScreen)
                    and "Accounts(3/3)" in flat_text(app), "the portal")  # fmt: skip

    async with app.run_test(size=(110, 30)) as pilot:
        await pilot.pause()
        await pilot.press("s", "d")
        await approve_the_code()
        assert not opened  # d: the code only

        end_sign_in(broker_home, "work")
        await pilot.press("r")  # Identity Center lists the accounts again: refused
        advice = await shown_advice(app, pilot, "work")
        assert advice == "the work session has ended: press s to sign in to work again"
        await pilot.press("s")
        await approve_the_code()
        assert len(opened) == 1 and opened[0].startswith(peer.url)  # its verification page
    assert signed_in_again(broker_home, "work")
