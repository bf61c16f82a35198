"""OIDCProvider end to end against the fake IdP: the browser flow over a real loopback
listener, the device flow on a fake clock, refresh with rotation, and the attacks."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest

from broker.errors import (
    AuthenticationError,
    ProviderError,
    ProviderUnavailableError,
    ReauthenticationRequired,
)
from providers.base import SignInOptions
from tests.unit.oidc.conftest import FakeClock
from tests.unit.oidc.fake_idp import FakeIdP
from tests.unit.oidc.fakes import BrowserUI


def test_browser_sign_in_with_pkce(idp: FakeIdP, make_provider, browser: BrowserUI) -> None:
    idp.userinfo = {"sub": "sub-alice", "groups": ["engineering"], "name": "Alice"}
    provider = make_provider(idp)
    result = provider.sign_in(SignInOptions(ui=browser, timeout=10))
    claims = result.claims
    assert (claims.provider, claims.issuer, claims.subject) == ("corp", idp.issuer, "sub-alice")
    assert claims.email == "alice@example.com"
    assert claims.groups == ("engineering",)
    assert claims.name == "Alice"
    assert claims.mfa is True and claims.amr == ("pwd", "mfa")
    assert result.refresh_token in idp.refresh_tokens
    query = parse_qs(urlsplit(browser.opened[0]).query)
    assert query["redirect_uri"][0].startswith("http://127.0.0.1:")
    assert query["code_challenge_method"] == ["S256"]
    assert "You can close this tab" in browser.answers[0].text
    assert result.id_token not in repr(result)


def test_state_mismatch_is_refused(idp: FakeIdP, make_provider) -> None:
    def forge(url: str) -> str:
        return idp.approve(url).replace("state=", "state=forged")

    with pytest.raises(AuthenticationError) as caught:
        make_provider(idp).sign_in(SignInOptions(ui=BrowserUI(forge), timeout=10))
    assert caught.value.code == "state_mismatch"


def test_error_callback_is_refused(idp: FakeIdP, make_provider) -> None:
    def deny(url: str) -> str:
        state = parse_qs(urlsplit(url).query)["state"][0]
        redirect = parse_qs(urlsplit(url).query)["redirect_uri"][0]
        return f"{redirect}?error=access_denied&state={state}"

    with pytest.raises(AuthenticationError) as caught:
        make_provider(idp).sign_in(SignInOptions(ui=BrowserUI(deny), timeout=10))
    assert caught.value.code == "access_denied"


def test_second_callback_finds_nothing_listening(idp: FakeIdP, make_provider, browser) -> None:
    make_provider(idp).sign_in(SignInOptions(ui=browser, timeout=10))
    with pytest.raises(httpx.ConnectError):
        httpx.get(browser.callbacks[0], timeout=2, trust_env=False)


def test_replayed_code_is_refused(idp: FakeIdP, make_provider) -> None:
    """A code already redeemed (the fake forgets it, as a real IdP does) fails the exchange."""
    stolen: list[str] = []

    def replay(url: str) -> str:
        callback = idp.approve(url)
        if not stolen:
            stolen.append(parse_qs(urlsplit(callback).query)["code"][0])
            return callback
        state = parse_qs(urlsplit(url).query)["state"][0]
        return callback.split("?")[0] + f"?code={stolen[0]}&state={state}"

    provider = make_provider(idp)
    provider.sign_in(SignInOptions(ui=BrowserUI(replay), timeout=10))
    with pytest.raises(AuthenticationError) as caught:
        provider.sign_in(SignInOptions(ui=BrowserUI(replay), timeout=10))
    assert caught.value.code == "invalid_grant"


def test_no_callback_times_out(idp: FakeIdP, make_provider) -> None:
    idp.discovery_overrides["device_authorization_endpoint"] = None
    ui = BrowserUI(lambda url: None)
    with pytest.raises(AuthenticationError) as caught:
        make_provider(idp).sign_in(SignInOptions(ui=ui, timeout=0.5))
    assert caught.value.code == "timeout"


def test_headless_sign_in_asks_for_login_without_network(idp: FakeIdP, make_provider) -> None:
    ui = BrowserUI(idp.approve)
    with pytest.raises(ReauthenticationRequired, match="broker login corp"):
        make_provider(idp).sign_in(SignInOptions(ui=ui, interactive=False))
    assert idp.requests == [] and ui.opened == []


def test_discovery_issuer_must_match_exactly(idp: FakeIdP, make_provider, browser) -> None:
    idp.discovery_overrides["issuer"] = "https://idp.example.com/"
    with pytest.raises(ProviderError, match="different issuer"):
        make_provider(idp).sign_in(SignInOptions(ui=browser))


def test_discovery_without_s256_is_refused(idp: FakeIdP, make_provider, browser) -> None:
    idp.discovery_overrides["code_challenge_methods_supported"] = ["plain"]
    with pytest.raises(ProviderError, match="S256"):
        make_provider(idp).sign_in(SignInOptions(ui=browser))


def test_userinfo_for_another_subject_is_refused(idp: FakeIdP, make_provider, browser) -> None:
    idp.userinfo = {"sub": "sub-mallory", "groups": ["platform-admins"]}
    with pytest.raises(AuthenticationError, match="another subject"):
        make_provider(idp).sign_in(SignInOptions(ui=browser, timeout=10))


def test_groups_claim_is_configurable_and_id_token_wins(idp, make_provider, browser) -> None:
    idp.claim_overrides["roles"] = ["finance"]
    idp.userinfo = {"sub": "sub-alice", "roles": ["platform-admins"], "email": "x@evil.example"}
    result = make_provider(idp, groups_claim="roles").sign_in(SignInOptions(ui=browser))
    assert result.claims.groups == ("finance",)
    assert result.claims.email == "alice@example.com"


def test_no_mfa_without_an_mfa_amr(idp: FakeIdP, make_provider, browser) -> None:
    idp.claim_overrides["amr"] = ["pwd"]
    assert make_provider(idp).sign_in(SignInOptions(ui=browser)).claims.mfa is False


def test_extra_audiences_follow_the_trusted_audiences_setting(
    idp: FakeIdP, make_provider, browser
) -> None:
    idp.claim_overrides.update(aud=[idp.client_id, "https://api.example.com"], azp=idp.client_id)
    with pytest.raises(AuthenticationError) as caught:
        make_provider(idp).sign_in(SignInOptions(ui=browser))
    assert caught.value.code == "invalid_audience"
    trusting = make_provider(idp, trusted_audiences=["https://api.example.com"])
    assert trusting.sign_in(SignInOptions(ui=browser)).claims.subject == "sub-alice"


# -- device flow ---------------------------------------------------------------------------


def test_device_flow_honours_interval_and_slow_down(idp: FakeIdP, make_provider) -> None:
    clock = FakeClock()
    idp.device_answers = ["authorization_pending", "slow_down", "authorization_pending", "ok"]
    ui = BrowserUI(idp.approve)
    result = make_provider(idp, clock).sign_in(SignInOptions(ui=ui, device=True))
    assert result.claims.subject == "sub-bob"
    assert ui.device_codes == [(f"{idp.issuer}/activate", "WDJB-MJHT")]
    assert clock.slept == [5, 5, 10, 10]  # +5 s after slow_down, for every later poll
    assert ui.opened == []


@pytest.mark.parametrize("answer", ["access_denied", "expired_token"])
def test_device_flow_stops_on_refusal(idp: FakeIdP, make_provider, answer: str) -> None:
    clock = FakeClock()
    idp.device_answers = ["authorization_pending", answer, "ok"]
    with pytest.raises(AuthenticationError) as caught:
        make_provider(idp, clock).sign_in(SignInOptions(ui=BrowserUI(idp.approve), device=True))
    assert caught.value.code == answer
    assert len(idp.device_polls) == 2


def test_device_flow_gives_up_at_the_timeout(idp: FakeIdP, make_provider) -> None:
    clock = FakeClock()
    idp.device_answers = ["authorization_pending"] * 100
    options = SignInOptions(ui=BrowserUI(idp.approve), device=True, timeout=60)
    with pytest.raises(AuthenticationError, match="not approved in time"):
        make_provider(idp, clock).sign_in(options)
    assert sum(clock.slept) <= 60


def test_device_flow_backs_off_while_the_idp_is_unreachable(idp: FakeIdP, make_provider) -> None:
    # RFC 8628 §3.5: a connection failure is not a refusal; wait ever longer and keep polling.
    clock = FakeClock()
    idp.device_answers = ["down", "down", "down", "authorization_pending", "ok"]
    ui = BrowserUI(idp.approve)
    result = make_provider(idp, clock).sign_in(SignInOptions(ui=ui, device=True))
    assert result.claims.subject == "sub-bob"
    assert clock.slept == [5, 10, 20, 40, 5]  # doubled while down, back to the interval after


def test_device_flow_backoff_keeps_slow_down(idp: FakeIdP, make_provider) -> None:
    clock = FakeClock()
    idp.device_answers = ["slow_down", "down", "ok"]
    make_provider(idp, clock).sign_in(SignInOptions(ui=BrowserUI(idp.approve), device=True))
    assert clock.slept == [5, 10, 20]


def test_device_flow_gives_up_when_the_idp_stays_down(idp: FakeIdP, make_provider) -> None:
    clock = FakeClock()
    idp.device_answers = ["down"] * 100
    options = SignInOptions(ui=BrowserUI(idp.approve), device=True, timeout=3600)
    with pytest.raises(ProviderUnavailableError) as caught:
        make_provider(idp, clock).sign_in(options)
    message = str(caught.value)
    assert "'corp'" in message and "could not be reached" in message
    assert "sign in again" in message and "\n" not in message
    assert sum(clock.slept) <= 600  # never past the device code's expires_in
    assert len(idp.device_polls) < 10  # exponential, not every 5 s


def test_no_browser_falls_back_to_the_device_flow(idp: FakeIdP, make_provider) -> None:
    clock = FakeClock()
    ui = BrowserUI(idp.approve, opens=False)
    result = make_provider(idp, clock).sign_in(SignInOptions(ui=ui))
    assert result.claims.subject == "sub-bob"
    assert len(ui.opened) == 1 and ui.device_codes


def test_device_flag_without_idp_support(idp: FakeIdP, make_provider) -> None:
    idp.discovery_overrides["device_authorization_endpoint"] = None
    with pytest.raises(ProviderError, match="device"):
        make_provider(idp).sign_in(SignInOptions(ui=BrowserUI(idp.approve), device=True))


# -- refresh and sign out ------------------------------------------------------------------


def test_refresh_rotates_the_token(idp: FakeIdP, make_provider, browser) -> None:
    provider = make_provider(idp)
    first = provider.sign_in(SignInOptions(ui=browser))
    renewed = provider.refresh(first.refresh_token)
    assert renewed.claims.subject == first.claims.subject
    assert renewed.refresh_token != first.refresh_token
    with pytest.raises(ReauthenticationRequired) as caught:
        provider.refresh(first.refresh_token)  # the rotated-out token is dead
    assert caught.value.code == "invalid_grant"


@pytest.mark.parametrize(
    ("status", "error", "expected"),
    [
        (400, "invalid_grant", ReauthenticationRequired),
        (400, "temporarily_unavailable", ProviderUnavailableError),
        (503, "server_error", ProviderUnavailableError),
        (429, "rate_limited", ProviderUnavailableError),
        (401, "invalid_client", AuthenticationError),
    ],
)
def test_refresh_errors_map(idp, make_provider, browser, status, error, expected) -> None:
    provider = make_provider(idp)
    token = provider.sign_in(SignInOptions(ui=browser)).refresh_token
    idp.refresh_error = (status, error)
    with pytest.raises(expected) as caught:
        provider.refresh(token)
    assert token not in str(caught.value)


def test_sign_out_revokes_the_refresh_token(idp: FakeIdP, make_provider, browser) -> None:
    provider = make_provider(idp)
    result = provider.sign_in(SignInOptions(ui=browser))
    provider.sign_out(result)
    assert result.refresh_token not in idp.refresh_tokens


def test_issuer_that_promises_iss_must_send_it(idp: FakeIdP, make_provider, browser) -> None:
    """RFC 9207: the discovery flag binds the browser flow to responses that name the issuer."""
    idp.discovery_overrides["authorization_response_iss_parameter_supported"] = True
    with pytest.raises(AuthenticationError) as caught:
        make_provider(idp).sign_in(SignInOptions(ui=browser, timeout=10))
    assert caught.value.code == "invalid_issuer"

    def with_iss(url: str) -> str:
        return idp.approve(url) + "&iss=" + quote(idp.issuer, safe="")

    result = make_provider(idp).sign_in(SignInOptions(ui=BrowserUI(with_iss), timeout=10))
    assert result.claims.subject == "sub-alice"


def test_each_sign_in_uses_fresh_state_nonce_and_verifier(idp, make_provider, browser) -> None:
    provider = make_provider(idp)
    provider.sign_in(SignInOptions(ui=browser, timeout=10))
    provider.sign_in(SignInOptions(ui=browser, timeout=10))
    first, second = (parse_qs(urlsplit(url).query) for url in browser.opened[:2])
    for name in ("state", "nonce", "code_challenge"):
        assert first[name] != second[name], name
