"""The certified ``oidc-provider`` (npm) on 127.0.0.1, started once per session, and a browser
that signs in at it the way a person would: follows redirects, submits the forms."""

from __future__ import annotations

import json
import selectors
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import httpx
import lxml.html
import pytest

from providers.oidc.provider import OIDCProvider
from tests.unit.oidc.fakes import make_context

PEER = Path(__file__).resolve().parents[2] / "peers" / "oidc"
START_TIMEOUT = 30.0


@dataclass(frozen=True)
class Peer:
    issuer: str
    admin: str

    def rotate_keys(self) -> list[str]:
        answer = httpx.post(f"{self.admin}/rotate", trust_env=False, timeout=10)
        answer.raise_for_status()
        return list(answer.json()["kids"])


@pytest.fixture(scope="session")
def oidc_peer() -> Iterator[Peer]:
    node = shutil.which("node")
    if node is None or not (PEER / "node_modules" / "oidc-provider").is_dir():
        pytest.fail("the oidc-provider peer is not installed: run scripts/setup (needs node + npm)")
    process = subprocess.Popen(
        [node, "server.mjs"],
        cwd=PEER,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=START_TIMEOUT):
            pytest.fail(f"oidc-provider did not start within {START_TIMEOUT:.0f} s")
        line = process.stdout.readline()
        if not line:
            pytest.fail(f"oidc-provider exited at start (code {process.poll()})")
        ready = json.loads(line)
        yield Peer(ready["issuer"], ready["admin"])
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        if process.stdout is not None:
            process.stdout.close()


class Browser:
    """Plays the person: loads pages, fills the login/consent/device forms, follows redirects.

    Stops when a redirect points at the broker's loopback listener (and visits it, as a real
    browser would), or at a page without a form (the device flow's success page).
    """

    def __init__(self, login: str = "alice", tamper=None) -> None:
        self.login = login
        self.tamper = tamper  # callback URL -> URL actually visited (attacks)
        self.callbacks: list[str] = []
        self.pages: list[str] = []

    def walk(self, url: str, stop_at: str | None, user_code: str | None = None) -> None:
        with httpx.Client(trust_env=False, timeout=10, follow_redirects=False) as http:
            self._walk(http, url, stop_at, user_code)

    def _walk(self, http: httpx.Client, url: str, stop_at: str | None, user_code: str | None):
        response = http.get(url)
        for _ in range(20):
            if response.is_redirect:
                target = urljoin(str(response.url), response.headers["location"])
                if stop_at is not None and target.startswith(stop_at):
                    self.callbacks.append(target)
                    visited = self.tamper(target) if self.tamper else target
                    self.pages.append(http.get(visited).text)
                    return
                response = http.get(target)
                continue
            self.pages.append(response.text)
            document = lxml.html.fromstring(response.text)
            forms = [f for f in document.forms if (f.method or "").upper() == "POST"]
            if not forms:
                return
            form = forms[0]
            fields = {k: v or "" for k, v in form.fields.items()}
            if "login" in fields:
                fields |= {"login": self.login, "password": "any"}
            if "user_code" in fields and user_code and not fields["user_code"]:
                fields["user_code"] = user_code
            response = http.post(urljoin(str(response.url), form.action), data=fields)
        raise AssertionError("the sign-in did not finish within 20 steps")


class Person:
    """A ``SignInUI`` whose browser completes the sign-in at the peer."""

    def __init__(self, login: str = "alice", tamper=None, device_only: bool = False) -> None:
        self.browser = Browser(login, tamper)
        self.device_only = device_only
        self.opened: list[str] = []
        self.messages: list[str] = []

    def open_url(self, url: str) -> bool:
        self.opened.append(url)
        if self.device_only:
            return False
        redirect = dict(httpx.URL(url).params)["redirect_uri"]
        self.browser.walk(url, stop_at=redirect)
        return True

    def show_device_code(self, verification_uri, user_code, complete_uri, expires_in) -> None:
        self.browser.walk(complete_uri or verification_uri, stop_at=None, user_code=user_code)

    def status(self, message: str) -> None:
        self.messages.append(message)


@pytest.fixture
def person() -> Person:
    return Person("alice")


@pytest.fixture
def make_peer_provider(oidc_peer: Peer, tmp_path: Path):
    made: list[OIDCProvider] = []

    def make(client_id: str = "broker-rs256", **settings) -> OIDCProvider:
        table = {"type": "oidc", "issuer": oidc_peer.issuer, "client_id": client_id, **settings}
        provider = OIDCProvider.from_config("corp", table, make_context(tmp_path / f"d{len(made)}"))
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.close()
