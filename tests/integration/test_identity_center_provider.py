"""The ``aws-identity-center`` provider against the loopback Identity Center fake (botocore's
wire format): the shared provider conformance suite, the device polling rules, the client
registration kept in the secret store (never under ``~/.aws``), refresh and sign-out."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from broker.config.schema import ConfigIssues
from broker.errors import AuthenticationError, ProviderUnavailableError, ReauthenticationRequired
from providers.base import SignInOptions
from providers.identity_center.provider import IdentityCenterProvider
from providers.identity_center.settings import load_settings
from providers.testing import ProviderConformance, SilentUI
from tests.integration.sso_peer import (
    START_URL,
    IdentityCenterFake,
    RunningFake,
    running_fake,
    sample_directory,
)
from tests.processes import free_port
from tests.unit.oidc.fakes import MemorySecrets

pytestmark = pytest.mark.integration


class Person(SilentUI):
    """Approves the shown user code at the fake's approval endpoint, as ``user``, after
    ``polls`` polls have gone by (0: at once, while the code is shown)."""

    def __init__(self, url: str, user: str = "casey") -> None:
        super().__init__()
        self.url, self.user = url, user
        self.codes: list[str] = []

    def show_device_code(
        self, verification_uri: str, user_code: str, complete_uri: str | None, expires_in: int
    ) -> None:
        super().show_device_code(verification_uri, user_code, complete_uri, expires_in)
        self.codes.append(user_code)
        httpx.post(
            f"{self.url}/_fake/approve", json={"user_code": user_code, "user": self.user}
        ).raise_for_status()


class Waits:
    """Sleep and monotonic clock for device polling: records each wait, never sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []
        self.on_wait: list[object] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds
        if self.on_wait:
            action = self.on_wait.pop(0)
            if callable(action):
                action()

    def clock(self) -> float:
        return self.now


def _settings(url: str) -> dict[str, str]:
    return {
        "type": "aws-identity-center",
        "start_url": START_URL,
        "region": "eu-west-1",
        "endpoint_url": url,
    }


def make(url: str, secrets: MemorySecrets, waits: Waits | None = None) -> IdentityCenterProvider:
    waits = waits or Waits()
    return IdentityCenterProvider(
        "work",
        load_settings("work", _settings(url)),
        secrets,
        sleep=waits.sleep,
        clock=waits.clock,
    )


@pytest.fixture
def peer() -> Iterator[RunningFake]:
    yield from running_fake(IdentityCenterFake(directory=sample_directory()))


@pytest.fixture
def secrets() -> MemorySecrets:
    return MemorySecrets()


class TestIdentityCenterConformance(ProviderConformance):
    @pytest.fixture
    def provider(self, peer: RunningFake, secrets: MemorySecrets) -> IdentityCenterProvider:
        return make(peer.url, secrets)

    @pytest.fixture
    def person(self, peer: RunningFake) -> Person:
        return Person(peer.url)

    @pytest.fixture
    def unreachable_provider(self, secrets: MemorySecrets) -> IdentityCenterProvider:
        return make(f"http://127.0.0.1:{free_port()}", MemorySecrets())


def test_polls_while_pending_and_slows_down_when_asked(
    peer: RunningFake, secrets: MemorySecrets
) -> None:
    waits = Waits()
    ui = SilentUI()
    codes: list[str] = []
    ui.show_device_code = lambda uri, code, complete, expires: codes.append(code)  # type: ignore[method-assign]
    peer.fake.slow_down(1)
    # First poll: slow down (wait 1 + 5 from then on); second: pending; third: approved.
    waits.on_wait = [None, None, lambda: peer.fake.approve(codes[0], "casey")]
    result = make(peer.url, secrets, waits).sign_in(SignInOptions(ui=ui, device=True))
    assert waits.waits == [1, 6, 6]
    assert result.access_token and result.refresh_token
    assert ui.opened == []  # --device: no browser


def test_opens_the_browser_at_the_complete_uri_unless_device(
    peer: RunningFake, secrets: MemorySecrets
) -> None:
    person = Person(peer.url)
    make(peer.url, secrets).sign_in(SignInOptions(ui=person))
    assert person.opened == [f"{peer.url}/start/#/device?user_code={person.codes[0]}"]


def test_denied_and_timed_out_sign_ins_say_what_to_do(
    peer: RunningFake, secrets: MemorySecrets
) -> None:
    ui = SilentUI()
    ui.show_device_code = lambda uri, code, complete, expires: peer.fake.deny(code)  # type: ignore[method-assign]
    with pytest.raises(AuthenticationError, match="denied at IAM Identity Center"):
        make(peer.url, secrets).sign_in(SignInOptions(ui=ui, device=True))
    waits = Waits()
    with pytest.raises(AuthenticationError) as late:
        make(peer.url, secrets, waits).sign_in(SignInOptions(ui=SilentUI(), timeout=5))
    assert "run `broker login work` again" in str(late.value) and "\n" not in str(late.value)
    assert sum(waits.waits) <= 5


def test_registration_is_reused_and_kept_only_in_the_secret_store(
    peer: RunningFake,
    secrets: MemorySecrets,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    provider = make(peer.url, secrets)
    first = provider.sign_in(SignInOptions(ui=Person(peer.url)))
    second = provider.sign_in(SignInOptions(ui=Person(peer.url)))
    assert peer.fake.count("RegisterClient") == 1
    stored = json.loads(secrets.values["identity-center:registration"])
    assert stored["start_url"] == START_URL and stored["client_secret"]
    assert stored["client_secret"] not in repr(first) + repr(second)
    assert first.claims.subject != second.claims.subject  # each sign-in is its own session
    assert not (tmp_path / ".aws").exists()


def test_a_registration_the_service_forgot_is_replaced_once(
    peer: RunningFake, secrets: MemorySecrets
) -> None:
    provider = make(peer.url, secrets)
    provider.sign_in(SignInOptions(ui=Person(peer.url)))
    stored = json.loads(secrets.values["identity-center:registration"])
    secrets.values["identity-center:registration"] = json.dumps(
        stored | {"client_id": "client-unknown"}
    )
    provider.sign_in(SignInOptions(ui=Person(peer.url)))
    assert peer.fake.count("RegisterClient") == 2


def test_refresh_rotates_and_a_spent_or_revoked_token_needs_a_sign_in(
    peer: RunningFake, secrets: MemorySecrets
) -> None:
    provider = make(peer.url, secrets)
    signed_in = provider.sign_in(SignInOptions(ui=Person(peer.url)))
    assert signed_in.refresh_token
    renewed = provider.refresh(signed_in.refresh_token)
    assert renewed.claims == signed_in.claims
    assert renewed.access_token != signed_in.access_token
    assert renewed.refresh_token not in (None, signed_in.refresh_token)
    with pytest.raises(ReauthenticationRequired, match="run `broker login work`"):
        provider.refresh(signed_in.refresh_token)  # spent
    peer.fake.revoke_refresh_tokens()
    assert renewed.refresh_token
    with pytest.raises(ReauthenticationRequired):
        provider.refresh(renewed.refresh_token)


def test_sign_out_ends_the_portal_session(peer: RunningFake, secrets: MemorySecrets) -> None:
    provider = make(peer.url, secrets)
    signed_in = provider.sign_in(SignInOptions(ui=Person(peer.url)))
    provider.sign_out(signed_in)
    assert peer.fake.count("Logout") == 1
    provider.sign_out(signed_in)  # already ended: not an error


def test_unreachable_refresh_is_transient(secrets: MemorySecrets, peer: RunningFake) -> None:
    provider = make(peer.url, secrets)
    signed_in = provider.sign_in(SignInOptions(ui=Person(peer.url)))
    gone = make(f"http://127.0.0.1:{free_port()}", secrets)
    assert signed_in.refresh_token
    with pytest.raises(ProviderUnavailableError, match="cannot be reached"):
        gone.refresh(signed_in.refresh_token)


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"region": "Europe"}, "region"),
        ({"start_url": "http://portal.example.com/start"}, "start_url"),
        ({"endpoint_url": "http://10.0.0.1"}, "endpoint_url"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_settings_are_checked_strictly(change: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigIssues) as caught:
        load_settings("work", {**_settings("http://127.0.0.1:1"), **change})
    assert f"providers.work.{key}" in str(caught.value)
