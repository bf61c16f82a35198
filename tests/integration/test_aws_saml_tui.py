"""SAML straight into AWS from the terminal app: the captured SAMLResponse is pasted into the
sign-in's paste field (masked: the screen only ever shows how much was pasted), checked by the
same functions as ``broker login NAME --saml-response``, and the assertion's role is minted
through moto's STS and used by the real AWS CLI.

The provider has no ``sso_url``: a capture-only provider never sends anyone to its IdP.

In tmux the value arrives as a real terminal paste (``load-buffer`` + ``paste-buffer -p``,
bracketed as a terminal sends it), wrapped over lines as a browser may copy it and far longer
than the 4095 characters a terminal's line editing would keep. The refusals (empty, a file
others can read, a missing file, a forged response) are driven through Textual's Pilot.
"""

from __future__ import annotations

import base64
import json
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from broker.store.credential_store import CredentialStore
from tests.conftest import RunBroker
from tests.functional.screen_text import flat_text, screen_text
from tests.integration import provider_setup_support as support
from tests.integration.federation_support import caller_identity
from tests.integration.saml_peer import IDP_ENTITY, Browser, RunningIdP, start_idp
from tests.integration.tmux_support import back_to_portal, quit_cleanly, welcome_seen
from tests.saml_forge import make_keypair

pytestmark = [pytest.mark.keyring, pytest.mark.integration]

AWS_SIGNIN = "https://signin.aws.amazon.com/saml"
# dana's one role is in moto's default account, where moto files SAML sessions
DANA_ACCOUNT = "123456789012"
DANA_ARN = f"arn:aws:sts::{DANA_ACCOUNT}:assumed-role/Dev/dana"
PROFILE = f"{DANA_ACCOUNT}.Dev"  # the portal's profile name for an account the directory lacks


@pytest.fixture(scope="module")
def aws_idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningIdP]:
    """The pysaml2 IdP peer with one SP, AWS, as an IdP's AWS application is set up."""
    keys = make_keypair("idp.example.test")
    with start_idp(
        tmp_path_factory.mktemp("idp"), keys, sp_entity_id="urn:amazon:webservices",
        sp_acs=AWS_SIGNIN,
    ) as running:  # fmt: skip
        yield running


def capture(idp: RunningIdP, username: str = "dana") -> str:
    """What the person copies: the SAMLResponse of the form the browser would post to AWS."""
    action, form = Browser(idp, username).unsolicited(AWS_SIGNIN)
    assert action == AWS_SIGNIN
    return form["SAMLResponse"]


@pytest.fixture
def capture_config(tmp_path: Path, aws_idp: RunningIdP, moto_federation: str) -> Path:
    directory = tmp_path / "config"
    directory.mkdir()
    (directory / "broker.toml").write_text(
        '[broker]\ndefault_provider = "corp"\n\n'
        f'[providers.corp]\ntype = "saml"\nidp_entity_id = "{IDP_ENTITY}"\n'
        f'idp_certificate = "{aws_idp.cert_path}"\naws_federation = true\n\n'
        f'[minters.aws-saml]\nendpoint_url = "{moto_federation}"\n'
    )
    return directory


def test_paste_the_response_mint_and_use_it_from_a_real_terminal(
    secret_service: None,
    broker_home: Path,
    tmp_path: Path,
    aws_idp: RunningIdP,
    moto_federation: str,
    capture_config: Path,
    run_broker: RunBroker,
) -> None:
    welcome_seen(broker_home)
    response = capture(aws_idp)
    wrapped = "\n".join(textwrap.wrap(response, 76)) + "\n"
    assert len(wrapped) > 4095  # a terminal's line editing would have cut it
    clipboard = tmp_path / "clipboard"
    clipboard.write_text(wrapped)
    env = {"BROKER_HOME": str(broker_home), "BROKER_CONFIG": str(capture_config)}
    with support.broker_in_tmux(env) as tmux:
        tmux.wait_for("Not signed in", timeout=30)
        tmux.keys("s")
        tmux.wait_for("choose an identity provider")
        tmux.wait_for("corp  [saml · paste] (default)")
        tmux.keys("Enter")
        tmux.wait_for("paste the SAMLResponse value")
        time.sleep(0.5)  # the field takes the focus once the dialog is up
        tmux.run("load-buffer", "-b", "capture", str(clipboard))
        tmux.run("paste-buffer", "-p", "-d", "-b", "capture", "-t", "app")
        shown = tmux.wait_for(f"{len(wrapped):,} characters pasted (not shown)")
        assert response[:24] not in shown and response[-24:] not in shown
        tmux.keys("Enter")
        shown = tmux.wait_for("Accounts(1/1)", timeout=40)
        assert "Signed in as dana@example.com through corp" in shown
        tmux.keys("m")
        tmux.wait_for("Mint Dev")
        time.sleep(0.5)  # the dialog focuses its duration field once mounted
        tmux.keys("Enter")  # the default, 1h (the assertion's SessionDuration allows 1h)
        shown = tmux.wait_for("credential_process (recommended)", timeout=40)
        assert f"--profile{PROFILE}" in "".join(shown.split())
        shown = back_to_portal(tmux)
        assert "Accounts(1/1)" in shown and "1 live" in shown
        quit_cleanly(tmux)

    store = CredentialStore(broker_home)
    session = store.session("corp")
    assert session is not None and session.saml_response == response
    cached = store.credentials(PROFILE)
    assert cached is not None
    who = caller_identity(tmp_path, PROFILE, moto_federation)
    assert who.returncode == 0, who.stderr
    assert json.loads(who.stdout)["Arn"] == DANA_ARN
    after = store.credentials(PROFILE)
    assert after is not None and after.access_key_id == cached.access_key_id  # the TUI's mint
    logged = run_broker("audit", "query", "--event", "AssumeRoleWithSAML")
    assert logged.returncode == 0 and response not in logged.stdout
    for path in broker_home.rglob("*"):  # the response lives in the keyring only
        if path.is_file():
            assert response[:64].encode() not in path.read_bytes(), path


# -- the refusals, through Textual's Pilot ---------------------------------------------------


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_bad_entries_are_refused_in_one_line_and_a_private_file_signs_in(
    secret_service: None,
    broker_home: Path,
    tmp_path: Path,
    aws_idp: RunningIdP,
    capture_config: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from textual import events
    from textual.widgets import Static

    from broker.tui.app import BrokerApp, app_services
    from broker.tui.options import TuiOptions
    from broker.tui.screens.portal import PortalScreen
    from broker.tui.screens.saml_capture import SamlCaptureModal
    from broker.tui.screens.signin import SignInScreen
    from broker.tui.widgets.capture_field import CaptureField

    monkeypatch.setenv("BROKER_CONFIG", str(capture_config))
    welcome_seen(broker_home)
    open_to_others = tmp_path / "shared.txt"
    open_to_others.write_text(capture(aws_idp))
    open_to_others.chmod(0o644)
    private = tmp_path / "response.txt"
    private.write_text(capture(aws_idp))
    private.chmod(0o600)
    signed = base64.b64decode(capture(aws_idp))
    assert b"dana@example.com" in signed
    forged = base64.b64encode(signed.replace(b"dana@example.com", b"dave@example.com")).decode()

    app = BrokerApp(app_services(), TuiOptions())
    async with app.run_test(size=(100, 30)) as pilot:

        async def error_line() -> str:
            """The dialog's error, as shown (wrapped rows joined), after one glyph."""
            await pilot.pause()
            shown = str(app.screen.query_one("#capture-error", Static).content)
            assert shown.count("✗") == 1 and "\n" not in shown, shown
            assert "".join(shown.split()) in "".join(flat_text(app).split())  # all on screen
            return shown

        async def enter(path: str) -> None:
            """Clear the field, paste ``path`` into it (typing each key is slow in Pilot; a
            typed path is the same text) and press enter."""
            await pilot.press("ctrl+u")
            app.screen.query_one(CaptureField).post_message(events.Paste(path))
            await pilot.press("enter")

        await app.workers.wait_for_complete()
        app.go("signin")
        await pilot.pause()
        assert isinstance(app.screen, SignInScreen)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SamlCaptureModal), screen_text(app)

        await enter("")
        assert await error_line() == (
            "✗ SAML response: the pasted value is empty; paste the SAMLResponse value"
        )
        assert isinstance(app.screen, SamlCaptureModal)  # open, to try again
        await pilot.press(*"~/ab", "backspace")  # typed: a path is shown as typed
        await pilot.pause()
        assert app.screen.query_one(CaptureField).text == "~/a"
        assert "file ~/a" in flat_text(app)

        await enter(str(open_to_others))
        line = await error_line()
        assert "mode 644" in line and f"`chmod 600 {open_to_others}`" in line, line
        assert f"file{open_to_others}" in "".join(flat_text(app).split())  # kept, to fix

        missing = tmp_path / "nowhere.txt"
        await enter(str(missing))
        assert "cannot read" in await error_line()

        # A pasted value the IdP did not sign: accepted by the field, refused by the same
        # check `broker login --saml-response` makes, as one line on the sign-in screen.
        field = app.screen.query_one(CaptureField)
        await pilot.press("ctrl+u")
        field.post_message(events.Paste(forged))
        await pilot.pause()
        assert f"{len(forged):,} characters pasted (not shown)" in screen_text(app)
        assert forged[:24] not in screen_text(app)
        await pilot.press("enter")
        for _ in range(100):
            await app.workers.wait_for_complete()
            await pilot.pause(0.05)
            if "✗" in screen_text(app):
                break
        assert forged[:24] not in screen_text(app) and "dave" not in screen_text(app)
        await pilot.press("escape")  # closes the error's details
        await pilot.pause()
        assert isinstance(app.screen, SignInScreen), screen_text(app)
        refused = str(app.screen.query_one("#status").render())
        assert refused.strip().startswith("✗ SAML response refused: Assertion signature"), refused

        # The path of a private file holding a good response signs in.
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SamlCaptureModal)
        await enter(str(private))
        for _ in range(100):
            await app.workers.wait_for_complete()
            await pilot.pause(0.05)
            if isinstance(app.screen, PortalScreen) and "Accounts(1/1)" in screen_text(app):
                break
        assert "Accounts(1/1)" in screen_text(app), screen_text(app)
    session = CredentialStore(broker_home).session("corp")
    assert session is not None and session.claims.email == "dana@example.com"
