"""SigV4 verification against requests signed by botocore's own SigV4Auth (not by us)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from broker.errors import StsError
from broker.server.sigv4 import SignedRequest, verify_sigv4

KEY_ID = "BRKUABCDEFGHIJKLMNOP"
SECRET = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNl"
TOKEN = "header.payload.signature"
BODY = b"Action=GetCallerIdentity&Version=2011-06-15"


def botocore_signed(
    *,
    token: str | None = None,
    region: str = "us-east-1",
    service: str = "sts",
    body: bytes = BODY,
    url: str = "http://127.0.0.1:8765/",
    secret: str = SECRET,
) -> SignedRequest:
    request = AWSRequest(
        method="POST",
        url=url,
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    SigV4Auth(Credentials(KEY_ID, secret, token), service, region).add_auth(request)
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    headers = {k.lower(): v for k, v in prepared.headers.items()}
    headers["host"] = parts.netloc
    return SignedRequest("POST", parts.path or "/", parts.query, headers, prepared.body or b"")


def lookup(expected_token: str | None = None):
    def secret_for(key_id: str, token: str | None) -> tuple[str, str]:
        if key_id != KEY_ID or token != expected_token:
            raise StsError("invalid", code="InvalidClientTokenId")
        return SECRET, "alice"

    return secret_for


def code_of(request: SignedRequest, **kwargs) -> str:
    with pytest.raises(StsError) as err:
        verify_sigv4(request, lookup(kwargs.pop("token", None)), **kwargs)
    assert err.value.code is not None
    return err.value.code


def test_botocore_signed_request_verifies() -> None:
    verified = verify_sigv4(botocore_signed(), lookup(), regions={"us-east-1"})
    assert verified.principal == "alice"
    assert verified.authorization.access_key_id == KEY_ID


def test_query_string_and_session_token_verify() -> None:
    request = botocore_signed(token=TOKEN, url="http://localhost:9/?b=2&a=1&a=0&x=%2F%20")
    assert verify_sigv4(request, lookup(TOKEN)).principal == "alice"


def test_wrong_secret_is_signature_mismatch() -> None:
    request = botocore_signed(secret="x" * 40)
    assert code_of(request) == "SignatureDoesNotMatch"


def test_a_kept_signing_key_never_verifies_another_secrets_signature() -> None:
    """The derived key is kept per secret: after the right secret's request verified (its key
    kept), the same scope signed with another secret still fails, and the other way round."""
    assert verify_sigv4(botocore_signed(), lookup()).principal == "alice"
    assert code_of(botocore_signed(secret="y" * 40)) == "SignatureDoesNotMatch"
    assert verify_sigv4(botocore_signed(), lookup()).principal == "alice"


def test_tampered_body_header_or_signature_is_refused() -> None:
    request = botocore_signed()
    body = replace(request, body=BODY.replace(b"GetCallerIdentity", b"GetSessionToken"))
    assert code_of(body) == "SignatureDoesNotMatch"
    host = replace(request, headers={**request.headers, "host": "evil.example.com"})
    assert code_of(host) == "SignatureDoesNotMatch"
    auth = request.headers["authorization"]
    flipped = auth[:-1] + ("0" if auth[-1] != "0" else "1")
    signature = replace(request, headers={**request.headers, "authorization": flipped})
    assert code_of(signature) == "SignatureDoesNotMatch"


def test_token_swapped_for_another_is_refused() -> None:
    request = botocore_signed(token=TOKEN)
    other = replace(request, headers={**request.headers, "x-amz-security-token": "other.t.k"})
    assert code_of(other, token=TOKEN) == "InvalidClientTokenId"


def test_unsigned_security_token_is_refused() -> None:
    request = botocore_signed()
    smuggled = replace(request, headers={**request.headers, "x-amz-security-token": TOKEN})
    assert code_of(smuggled, token=TOKEN) == "IncompleteSignature"


@pytest.mark.parametrize("skew", [timedelta(minutes=-6), timedelta(minutes=6)])
def test_clock_window_is_five_minutes(skew) -> None:
    request = botocore_signed()
    now = datetime.now(UTC) + skew
    assert code_of(request, now=now) == "SignatureDoesNotMatch"
    assert verify_sigv4(request, lookup(), now=now - skew / 3 * 2).principal == "alice"


@pytest.mark.parametrize(
    "stamp",
    [
        "2026-11-27T10:00:00Z",  # extended, not basic, format
        "20261127T100000",  # no Z
        "20261327T100000Z",  # month 13
        "20261127T250000Z",  # hour 25
        "２０２６１１２７T100000Z",  # digits, but not ASCII ones
    ],
)
def test_x_amz_date_must_be_a_real_basic_format_time(stamp) -> None:
    request = botocore_signed()
    malformed = replace(request, headers={**request.headers, "x-amz-date": stamp})
    assert code_of(malformed) == "IncompleteSignature"


def test_scope_must_name_service_and_region() -> None:
    assert code_of(botocore_signed(service="s3")) == "SignatureDoesNotMatch"
    assert code_of(botocore_signed(region="eu-west-1"), regions={"us-east-1"}) == (
        "SignatureDoesNotMatch"
    )


def test_scope_date_must_be_x_amz_date_day() -> None:
    request = botocore_signed()
    auth = request.headers["authorization"]
    date = request.headers["x-amz-date"][:8]
    other = (datetime.strptime(date, "%Y%m%d") - timedelta(days=1)).strftime("%Y%m%d")
    moved = replace(
        request, headers={**request.headers, "authorization": auth.replace(date, other, 1)}
    )
    assert code_of(moved) == "SignatureDoesNotMatch"


def test_host_and_date_must_be_signed() -> None:
    request = botocore_signed()
    auth = request.headers["authorization"]
    for header in ("host;", ";x-amz-date"):
        stripped = replace(
            request, headers={**request.headers, "authorization": auth.replace(header, "")}
        )
        assert code_of(stripped) == "IncompleteSignature"


def test_missing_or_foreign_authorization() -> None:
    request = botocore_signed()
    none = replace(
        request, headers={k: v for k, v in request.headers.items() if k != "authorization"}
    )
    assert code_of(none) == "MissingAuthenticationToken"
    v2 = replace(request, headers={**request.headers, "authorization": "AWS AKID:sig"})
    assert code_of(v2) == "IncompleteSignature"
