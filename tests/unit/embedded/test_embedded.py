"""The embedded development IdP: demo users, loopback-only, same OIDC path, refresh across
processes, and the checks its authlib server enforces."""

from __future__ import annotations

import io
import json
import stat
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from broker.errors import AuthenticationError, ConfigError, ProviderError, ReauthenticationRequired
from providers.base import SignInOptions
from providers.embedded.issuer import EmbeddedIssuer
from providers.embedded.provider import EmbeddedProvider
from providers.embedded.refresh_store import RefreshStore
from providers.embedded.signing_key import KEYRING_ENTRY
from providers.embedded.users import ISSUER, load_users, subject_for
from providers.testing import SilentUI
from tests.conftest import CONFIG
from tests.unit.embedded.conftest import LoginPagePerson, page_form

DEMO_USERS = {
    "alice": (("platform-admins", "engineering"), True),
    "bob": (("engineering", "payments-developers"), True),
    "carol": (("data-science",), True),
    "dave": (("finance",), False),
    "erin": (("security-auditors",), True),
    "frank": (("engineering",), False),
    "grace": (("payments-developers", "oncall"), True),
    "heidi": (("data-science", "engineering"), False),
    "ivan": (("support",), False),
    "judy": (("security-auditors", "platform-admins"), True),
    "mallory": (("contractors",), False),
    "oscar": ((), False),
}


def test_demo_users_are_exactly_the_agreed_ones() -> None:
    users = load_users(CONFIG)
    assert {name: (u.groups, u.mfa) for name, u in users.items()} == DEMO_USERS
    assert all(u.email == f"{name}@example.com" for name, u in users.items())
    assert subject_for("alice") == subject_for("alice") != subject_for("bob")


@pytest.mark.parametrize("user", ["alice", "dave", "oscar"])
def test_user_hint_signs_in_without_a_page(embedded: EmbeddedProvider, user: str) -> None:
    ui = SilentUI()
    result = embedded.sign_in(SignInOptions(ui=ui, user_hint=user, timeout=10))
    groups, mfa = DEMO_USERS[user]
    claims = result.claims
    assert claims.issuer == ISSUER and "development-only" in claims.issuer
    assert claims.subject == subject_for(user)
    assert (claims.groups, claims.mfa, claims.email) == (groups, mfa, f"{user}@example.com")
    assert claims.attributes["development_only"] == ("true",)
    assert claims.session_not_on_or_after is not None
    hours = (claims.session_not_on_or_after - result.expires_at).total_seconds() / 3600
    assert 10.9 < hours < 11.1  # the 12 h refresh lifetime, 1 h past the ID token's
    assert embedded.capabilities().development_only


def test_user_hint_by_email_and_unknown_hint(embedded: EmbeddedProvider) -> None:
    result = embedded.sign_in(SignInOptions(ui=SilentUI(), user_hint="erin@example.com"))
    assert result.claims.subject == subject_for("erin")
    with pytest.raises(AuthenticationError, match="pick one of: alice, bob"):
        embedded.sign_in(SignInOptions(ui=SilentUI(), user_hint="eve"))


def test_login_page_lists_every_demo_user_and_says_development_only(embedded) -> None:
    person = LoginPagePerson("judy")
    result = embedded.sign_in(SignInOptions(ui=person, timeout=10))
    assert result.claims.subject == subject_for("judy")
    page = person.pages[0]
    assert "DEVELOPMENT ONLY" in page
    for name in DEMO_USERS:
        assert f'value="{name}"' in page


def test_device_flow_approved_and_denied_on_the_device_page(embedded: EmbeddedProvider) -> None:
    result = embedded.sign_in(SignInOptions(ui=LoginPagePerson("grace"), device=True, timeout=30))
    assert result.claims.subject == subject_for("grace")

    class Denier(LoginPagePerson):
        def show_device_code(self, verification_uri, user_code, complete_uri, expires_in):
            httpx.post(
                verification_uri, data={"user_code": user_code, "deny": "1"}, trust_env=False
            )

    with pytest.raises(AuthenticationError) as caught:
        embedded.sign_in(SignInOptions(ui=Denier(), device=True, timeout=30))
    assert caught.value.code == "access_denied"


def test_refresh_rotates_and_works_from_another_process(context, embedded) -> None:
    first = embedded.sign_in(SignInOptions(ui=SilentUI(), user_hint="bob"))
    # Another process: a fresh provider sharing only the keyring and the data directory.
    other = EmbeddedProvider.from_config("demo", {"type": "embedded"}, context)
    try:
        renewed = other.refresh(first.refresh_token)
        assert renewed.claims.subject == subject_for("bob")
        assert renewed.claims.auth_time == first.claims.auth_time
        # The session ends 12 h after sign-in, however often it is refreshed.
        end, renewed_end = (
            first.claims.session_not_on_or_after,
            renewed.claims.session_not_on_or_after,
        )
        assert abs((renewed_end - end).total_seconds()) <= 2
        assert renewed.refresh_token != first.refresh_token
        with pytest.raises(ReauthenticationRequired):
            embedded.refresh(first.refresh_token)  # rotated out, in every process
        assert embedded.refresh(renewed.refresh_token).claims.subject == subject_for("bob")
    finally:
        other.close()


def test_refresh_state_on_disk_is_private_and_hashed(context, embedded) -> None:
    result = embedded.sign_in(SignInOptions(ui=SilentUI(), user_hint="bob"))
    directory = context.data_dir / "embedded-idp"
    file = directory / "refresh-tokens.json"
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    text = file.read_text()
    assert result.refresh_token not in text and len(json.loads(text)) == 1
    assert not [p for p in directory.iterdir() if p.name.endswith(".tmp")]
    file.chmod(0o644)
    with pytest.raises(ProviderError, match="chmod 600"):
        RefreshStore(directory).take("anything")


def test_sign_out_revokes(embedded: EmbeddedProvider) -> None:
    result = embedded.sign_in(SignInOptions(ui=SilentUI(), user_hint="bob"))
    embedded.sign_out(result)
    with pytest.raises(ReauthenticationRequired):
        embedded.refresh(result.refresh_token)


def test_signing_key_lives_in_the_keyring(secrets, embedded) -> None:
    embedded.sign_in(SignInOptions(ui=SilentUI(), user_hint="alice"))
    assert json.loads(secrets.values[KEYRING_ENTRY])["kty"] == "EC"


def test_corrupt_signing_key_is_a_clear_error(secrets, context) -> None:
    secrets.set_secret(KEYRING_ENTRY, "not a key")
    provider = EmbeddedProvider.from_config("demo", {"type": "embedded"}, context)
    with pytest.raises(ProviderError, match="delete that keyring entry"):
        provider.sign_in(SignInOptions(ui=SilentUI(), user_hint="alice"))


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "localhost", "::", "127.0.0.2"])
def test_any_bind_address_but_loopback_is_refused(context, host: str) -> None:
    with pytest.raises(ConfigError, match=r"only listen on 127\.0\.0\.1"):
        EmbeddedProvider.from_config("demo", {"type": "embedded", "host": host}, context)
    with pytest.raises(ConfigError):
        EmbeddedIssuer(context, host=host)


def test_unknown_setting_is_refused(context) -> None:
    with pytest.raises(ConfigError, match=r"providers\.demo\.issuer"):
        EmbeddedProvider.from_config("demo", {"type": "embedded", "issuer": "x"}, context)


# -- what the authlib server refuses -----------------------------------------------------------


@pytest.fixture
def issuer(context):
    with EmbeddedIssuer(context) as running:
        yield running


def authorize_params(**overrides: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": "access-broker",
        "redirect_uri": "http://127.0.0.1:5555/callback",
        "scope": "openid email",
        "state": "s",
        "nonce": "n",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v}


@pytest.mark.parametrize(
    "overrides",
    [
        {"code_challenge": "", "code_challenge_method": ""},  # PKCE is required
        {"code_challenge_method": "plain"},
        {"redirect_uri": "http://attacker.example/callback"},
        {"redirect_uri": "http://127.0.0.1:5555/elsewhere"},
        {"client_id": "someone-else"},
        {"response_type": "token"},  # no implicit grant
        {"nonce": ""},
    ],
)
def test_bad_authorization_requests_get_no_login_page(issuer, overrides) -> None:
    page = httpx.get(
        f"{issuer.base_url}/authorize", params=authorize_params(**overrides), trust_env=False
    )
    assert page.status_code == 400
    assert 'name="user"' not in page.text


VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"  # RFC 7636 appendix B's pair


def fresh_code(issuer) -> tuple[httpx.Client, dict[str, str]]:
    """Sign alice in on the login page; the token request form for the code it returns."""
    page = httpx.get(f"{issuer.base_url}/authorize", params=authorize_params(), trust_env=False)
    answer = httpx.post(
        f"{issuer.base_url}/authorize",
        data=page_form(page.text) | {"user": "alice"},
        trust_env=False,
    )
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": "access-broker",
        "redirect_uri": "http://127.0.0.1:5555/callback",
    }
    return httpx.Client(transport=issuer.transport()), form


def test_code_is_single_use_and_needs_the_verifier(issuer) -> None:
    client, form = fresh_code(issuer)
    wrong = client.post(f"{issuer.base_url}/token", data=form | {"code_verifier": "x" * 43})
    assert wrong.status_code == 400
    # The failed attempt consumed the code: a code is tried once.
    good = client.post(f"{issuer.base_url}/token", data=form | {"code_verifier": VERIFIER})
    assert good.json()["error"] == "invalid_grant"


def test_replayed_code_is_refused(issuer) -> None:
    client, form = fresh_code(issuer)
    form["code_verifier"] = VERIFIER
    first = client.post(f"{issuer.base_url}/token", data=form)
    assert first.status_code == 200 and "id_token" in first.json()
    assert client.post(f"{issuer.base_url}/token", data=form).json()["error"] == "invalid_grant"


def test_issuer_listens_on_loopback_only(issuer) -> None:
    host = issuer._httpd.server_address[0]
    assert host == "127.0.0.1"


def test_shipped_config_uses_the_embedded_provider() -> None:
    import tomllib

    table = tomllib.loads((CONFIG / "broker.toml").read_text())
    assert table["providers"]["demo"] == {"type": "embedded"}


def test_device_polling_too_fast_is_told_to_slow_down(issuer) -> None:
    client = httpx.Client(transport=issuer.transport())
    start = client.post(
        f"{issuer.base_url}/device_authorization",
        data={"client_id": "access-broker", "scope": "openid"},
    ).json()
    poll = {
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
        "device_code": start["device_code"],
        "client_id": "access-broker",
    }
    first = client.post(f"{issuer.base_url}/token", data=poll).json()
    second = client.post(f"{issuer.base_url}/token", data=poll).json()
    assert (first["error"], second["error"]) == ("authorization_pending", "slow_down")


@pytest.mark.parametrize("grant", ["password", "client_credentials", "implicit"])
def test_other_grants_are_not_offered(issuer, grant: str) -> None:
    client = httpx.Client(transport=issuer.transport())
    form = {"grant_type": grant, "client_id": "access-broker", "username": "alice"}
    answer = client.post(f"{issuer.base_url}/token", data=form)
    assert answer.status_code == 400
    assert answer.json()["error"] == "unsupported_grant_type"


def test_login_page_escapes_what_the_request_carries(issuer) -> None:
    evil = '"><script>alert(1)</script>'
    page = httpx.get(
        f"{issuer.base_url}/authorize",
        params=authorize_params(state=evil, login_hint=evil),
        trust_env=False,
    )
    assert page.status_code == 200
    assert "<script>" not in page.text
    assert page_form(page.text)["state"] == evil  # carried through intact, as data
    assert "default-src 'none'" in page.headers["content-security-policy"]


def test_refresh_store_creates_a_missing_data_directory_private(tmp_path) -> None:
    data = tmp_path / "fresh-home"
    RefreshStore(data / "embedded-idp").take("anything")
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "embedded-idp").stat().st_mode) == 0o700


class _OneShotBody(io.BytesIO):
    """A request body that, like a socket, must never be read "until the end"."""

    def read(self, size: int | None = -1) -> bytes:
        assert size is not None and size >= 0, "read until the peer closes"
        return super().read(size)


@pytest.mark.parametrize(
    ("length", "body"),
    [
        ("abc", b"grant_type=x"),
        ("-1", b"grant_type=x"),
        ("99999999999999999999999", b"grant_type=x"),
        ("9" * 5000, b"grant_type=x"),
        ("4", b"\xff\xfe\xfd\xfc"),
    ],
)
def test_a_bad_content_length_is_a_400_not_a_crash(context, length: str, body: bytes) -> None:
    """A local process sending a malformed or negative Content-Length (or a body that is not
    UTF-8) gets a 400; it neither crashes the handler (a traceback on the terminal) nor makes it
    read until the peer closes."""
    from providers.embedded.issuer import EmbeddedIssuer

    issuer = EmbeddedIssuer(context)
    try:
        statuses: list[str] = []
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/token",
            "QUERY_STRING": "",
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": length,
            "wsgi.input": _OneShotBody(body),
        }
        issuer.app(environ, lambda status, headers: statuses.append(status))
        assert statuses and statuses[0].startswith("400")
    finally:
        issuer.close()
