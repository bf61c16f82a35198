"""``o`` opens the AWS console for a session: the aws minter's credentials (minted by moto's STS
through the real chain) are traded at a loopback federation endpoint that checks them against
moto, and the link is shown in a dialog; the local minter's sessions get one line saying why
there is no console. ``broker console PROFILE`` goes through the same core."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from broker.minters.base import Credentials
from broker.store.credential_store import CredentialStore
from broker.sts.state_handle import StateHandle
from tests.client_support import write_config
from tests.conftest import RunBroker, one_line
from tests.functional.screen_text import flat_text, screen_text
from tests.integration.moto_peer import MotoPeer

pytestmark = [pytest.mark.keyring, pytest.mark.integration, pytest.mark.anyio]

NO_CONSOLE = (
    "sessions minted by the local broker have no AWS console; use the aws minter, see "
    "docs/configuration.md"
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Federation:
    """The federation endpoint, played on loopback; a session is good if moto knows it."""

    server: ThreadingHTTPServer
    moto: str
    callers: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/federation"


def _caller(moto: str, session: dict[str, str]) -> str | None:
    import botocore.session
    from botocore.exceptions import ClientError

    client = botocore.session.Session().create_client(
        "sts",
        region_name="us-east-1",
        endpoint_url=moto,
        aws_access_key_id=session["sessionId"],
        aws_secret_access_key=session["sessionKey"],
        aws_session_token=session["sessionToken"],
    )
    try:
        return str(client.get_caller_identity()["Arn"])
    except ClientError:
        return None


@pytest.fixture
def federation(moto_peer: MotoPeer) -> Iterator[Federation]:
    state: list[Federation] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            session = json.loads(query.get("Session", ["{}"])[0])
            arn = _caller(moto_peer.url, session) if query["Action"] == ["getSigninToken"] else None
            if arn is not None:
                state[0].callers.append(arn)
            body = json.dumps({"SigninToken": "token-for-session"}).encode() if arn else b"no"
            self.send_response(200 if arn else 400)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.append(Federation(server, moto_peer.url))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield state[0]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def sessions(
    secret_service: None,
    broker_home: Path,
    tmp_path: Path,
    moto_peer: MotoPeer,
    upstream_profile: str,
    federation: Federation,
    monkeypatch: pytest.MonkeyPatch,
) -> Credentials:
    """``upstream`` minted by the aws minter (moto) through the real chain; ``dev`` a local one.
    Returns the upstream credentials."""
    from broker.client.profiles import find_profile
    from broker.client.wiring import close_chain, open_chain
    from broker.signin import LoginInput, run_login
    from broker.tui.state import TuiState, save_state
    from providers.testing import SilentUI
    from tests.client_support import TestIdP

    extra = (
        '\n[profiles.upstream]\naccount = "111122223333"\nrole = "AllowedReadOnly"\n'
        'minter = "aws"\n\n'
        f'[minters.aws]\nfederation_url = "{federation.url}"\nissuer = "https://b.example"\n\n'
        '[minters.aws.accounts."111122223333"]\n'
        f'profile = "{upstream_profile}"\nendpoint_url = "{moto_peer.url}"\n'
        'roles = ["AllowedReadOnly"]\n'
    )
    monkeypatch.setenv("BROKER_CONFIG", str(write_config(tmp_path / "config", extra)))
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)  # no browser: the dialog must say so
    store = CredentialStore(broker_home)
    run_login(LoginInput(provider="corp"), store=store, build=lambda _n: TestIdP(), ui=SilentUI())
    config, chain = open_chain(state=StateHandle(broker_home, None))
    try:
        upstream = chain.credentials(find_profile(config, "upstream"))
    finally:
        close_chain(chain)
    local = Credentials("BKIALOCALSESSION0001", "l" * 40, "local-token", upstream.expiration)
    store.save_credentials(
        "dev", provider="corp", account="111122223333", role="Developer", credentials=local
    )
    save_state(broker_home, TuiState(welcome_seen=True))
    return upstream


async def _past_the_config_check(app, pilot) -> None:  # type: ignore[no-untyped-def]
    """These profiles need no directory, but the app's start-up check (as `broker config
    validate`) reports its absence: wait for that check and close its dialog, after making
    sure the missing directory is all it found."""
    from broker.tui.screens.config_errors import ConfigErrorsScreen

    await app.workers.wait_for_complete()
    await pilot.pause()
    if isinstance(app.screen, ConfigErrorsScreen):
        assert [issue.file.rsplit("/", 1)[-1] for issue in app.config_issues] == ["directory"]
        await pilot.press("escape")
        await pilot.pause()


async def _settle(app, pilot, done, rounds: int = 100) -> None:  # type: ignore[no-untyped-def]
    for _ in range(rounds):  # bounded: workers call moto and the keyring
        await app.workers.wait_for_complete()
        await pilot.pause(0.1)
        if done():
            return


async def test_o_in_sessions_shows_the_console_link_or_says_why_not(
    sessions: Credentials, federation: Federation, broker_home: Path
) -> None:
    from broker.tui.app import BrokerApp, app_services
    from broker.tui.options import TuiOptions
    from broker.tui.screens.console_link import ConsoleLinkModal
    from broker.tui.screens.error import ErrorModal
    from broker.tui.screens.sessions import SessionsScreen

    app = BrokerApp(app_services(), TuiOptions())
    async with app.run_test(size=(100, 30)) as pilot:
        await _past_the_config_check(app, pilot)
        app.go("sessions")
        await _settle(app, pilot, lambda: "upstream" in screen_text(app))
        screen = app.screen
        assert isinstance(screen, SessionsScreen), screen_text(app)
        assert [r.profile for r in screen.rows] == ["dev", "upstream"]

        await pilot.press("down", "o")
        await _settle(app, pilot, lambda: isinstance(app.screen, ConsoleLinkModal))
        modal = app.screen
        assert isinstance(modal, ConsoleLinkModal), screen_text(app)
        query = parse_qs(urlsplit(modal.url).query)
        assert query["Action"] == ["login"] and query["SigninToken"] == ["token-for-session"]
        assert federation.callers == [
            "arn:aws:sts::111122223333:assumed-role/AllowedReadOnly/alice@example.com"
        ]
        text = flat_text(app)
        assert "AWS console for upstream" in text
        assert "No browser here" in text
        await pilot.press("escape")
        await pilot.pause()

        await pilot.press("up", "o")
        await _settle(app, pilot, lambda: isinstance(app.screen, ErrorModal))
        assert isinstance(app.screen, ErrorModal), screen_text(app)
        assert f"dev: {NO_CONSOLE}" in flat_text(app)
        assert "Traceback" not in flat_text(app)
    # The link is a bearer secret: nothing under the data directory (logs included) holds it.
    for path in broker_home.rglob("*"):
        if path.is_file():
            assert b"token-for-session" not in path.read_bytes(), path
        assert len(federation.callers) == 1  # AWS was not asked


async def test_o_after_minting_opens_the_console_for_that_profile(
    sessions: Credentials, federation: Federation
) -> None:
    from broker.tui.app import BrokerApp, app_services
    from broker.tui.model import MintOutcome, PortalRole
    from broker.tui.options import TuiOptions
    from broker.tui.screens.console_link import ConsoleLinkModal
    from broker.tui.screens.credentials import CredentialsScreen

    role = PortalRole("111122223333", "example-dev", "AllowedReadOnly", "AllowedReadOnly")
    app = BrokerApp(app_services(), TuiOptions())
    async with app.run_test(size=(100, 30)) as pilot:
        await _past_the_config_check(app, pilot)
        await app.push_screen(CredentialsScreen(role, MintOutcome("upstream", sessions)))
        await pilot.press("o")
        await _settle(app, pilot, lambda: isinstance(app.screen, ConsoleLinkModal))
        assert isinstance(app.screen, ConsoleLinkModal), screen_text(app)
        await pilot.press("y")
        await pilot.pause()
        assert app.last_copied == app.screen.url


def test_console_command_for_a_profile(
    sessions: Credentials, federation: Federation, run_broker: RunBroker
) -> None:
    result = run_broker("console", "upstream")
    assert result.returncode == 0, result.stderr
    assert parse_qs(urlsplit(one_line(result.stdout)).query)["SigninToken"] == ["token-for-session"]
    assert result.stderr == ""
    local = run_broker("console", "dev")
    assert local.returncode == 2
    assert one_line(local.stderr) == f"broker: error: dev: {NO_CONSOLE}"
    assert local.stdout == ""
