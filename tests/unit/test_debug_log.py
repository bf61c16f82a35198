"""``--debug``'s redaction, on the shapes httpx, httpcore and botocore log."""

from __future__ import annotations

import pytest

from broker.debug_log import REDACTED, redact
from broker.proxy_hint import proxy_for, proxy_hint

SECRET = "s3cr3t-VALUE-42"


@pytest.mark.parametrize(
    "line",
    [
        f'HTTP Request: GET https://b.example/cb?code={SECRET}&state=x "HTTP/1.1 302 Found"',
        f"grant_type=refresh_token&refresh_token={SECRET}&client_id=broker",
        f'{{"access_token": "{SECRET}", "token_type": "Bearer"}}',
        f"headers={{'Authorization': b'AWS4-HMAC-SHA256 Credential=AKIA/x, Signature={SECRET}'}}",
        f"{{'X-Amz-Security-Token': b'{SECRET}', 'User-Agent': b'Boto3'}}",
        f"Response body: b'<Credentials><SecretAccessKey>{SECRET}</SecretAccessKey>'",
        f"<SessionToken>{SECRET}</SessionToken>",
        f"Authorization: Bearer {SECRET}",
        f"https://signin.example/federation?Action=getSigninToken&Session={SECRET}",
        f"connect to http://user:{SECRET}@proxy.example:3128",
        f"id_token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ{SECRET}.c2lnbmF0dXJl",
        f"{{'SAMLResponse': '{SECRET}'}}",
    ],
)
def test_secret_values_are_redacted(line: str) -> None:
    shown = redact(line)
    assert SECRET not in shown
    assert REDACTED in shown


def test_ordinary_fields_stay() -> None:
    line = 'HTTP Request: POST https://idp.example/token "HTTP/1.1 200 OK" status_code=200'
    assert redact(line) == line


def test_proxy_hint_names_the_variable_not_its_password(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://me:pw@proxy.example:3128")
    monkeypatch.setenv("https_proxy", "http://me:pw@proxy.example:3128")
    hint = proxy_hint("https://idp.example.com/.well-known/openid-configuration")
    assert "HTTPS_PROXY (http://proxy.example:3128)" in hint and "pw" not in hint
    monkeypatch.setenv("NO_PROXY", "idp.example.com")
    monkeypatch.setenv("no_proxy", "idp.example.com")
    assert proxy_for("https://idp.example.com/x") is None
    assert proxy_hint("http://plain.example/") == ""
