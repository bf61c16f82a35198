"""The loopback ACS: 127.0.0.1 only, one response, bounded bodies, nothing else counts."""

from __future__ import annotations

import socket

import httpx
import pytest

from broker.errors import AuthenticationError, ProviderUnavailableError
from broker.tokens.saml.safe_xml import MAX_ENCODED_BYTES
from providers.saml.acs import LoopbackACS, PostedResponse
from tests.conftest import addresses_beside_loopback_one


def test_listens_on_loopback_only_and_hands_over_one_response() -> None:
    seen: list[PostedResponse] = []

    def handle(posted: PostedResponse) -> str:
        seen.append(posted)
        return "accepted"

    with LoopbackACS(0, handle) as acs:
        assert acs.url.startswith("http://127.0.0.1:")
        assert acs._server.server_address[0] == "127.0.0.1"
        page = httpx.post(acs.url, data={"SAMLResponse": "abc", "RelayState": "xyz"}, timeout=5)
        assert acs.wait(5) == "accepted"
        again = httpx.post(acs.url, data={"SAMLResponse": "def"}, timeout=5)
    assert page.status_code == 200 and again.status_code == 404
    assert seen == [PostedResponse("abc", "xyz")]
    assert page.headers["cache-control"] == "no-store"


def test_oversized_or_malformed_posts_do_not_count() -> None:
    with LoopbackACS(0, lambda posted: posted.saml_response) as acs:
        big = httpx.post(
            acs.url,
            content=b"SAMLResponse=" + b"A" * (3 * MAX_ENCODED_BYTES),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=5,
        )
        json_body = httpx.post(acs.url, json={"SAMLResponse": "x"}, timeout=5)
        two = httpx.post(
            acs.url,
            content=b"SAMLResponse=a&SAMLResponse=b",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=5,
        )
        elsewhere = httpx.post(acs.url + "/other", data={"SAMLResponse": "x"}, timeout=5)
        assert acs.wait(0.2) is None
        good = httpx.post(acs.url, data={"SAMLResponse": "ok"}, timeout=5)
        assert acs.wait(5) == "ok"
    assert [r.status_code for r in (big, json_body, two, elsewhere, good)] == [
        400,
        400,
        400,
        404,
        200,
    ]


def test_handler_refusal_is_raised_to_the_waiting_caller() -> None:
    def refuse(_posted: PostedResponse) -> str:
        raise AuthenticationError("SAML response refused: Audience")

    with LoopbackACS(0, refuse) as acs:
        page = httpx.post(acs.url, data={"SAMLResponse": "x"}, timeout=5)
        with pytest.raises(AuthenticationError, match="Audience"):
            acs.wait(5)
    assert page.status_code == 400 and "Audience" in page.text


def test_port_in_use_is_a_clear_error() -> None:
    with LoopbackACS(0, lambda p: p) as first:
        port = int(first.url.rsplit(":", 1)[1].split("/")[0])
        with pytest.raises(ProviderUnavailableError, match="acs_port"):
            LoopbackACS(port, lambda p: p)


def test_posted_response_keeps_the_assertion_out_of_repr() -> None:
    # The base64 response is a bearer credential (AssumeRoleWithSAML takes it as is): a repr in
    # a traceback, a log line or a debugger must not carry it.
    posted = PostedResponse("PHNhbWxwOlJlc3BvbnNlIHNlY3JldD0ieWVzIi8+", "relay-123")
    assert "PHNhbWxwOlJlc3BvbnNl" not in repr(posted)
    assert "PHNhbWxwOlJlc3BvbnNl" not in str(posted)


def test_not_reachable_beside_127_0_0_1() -> None:
    with LoopbackACS(0, lambda posted: posted.saml_response) as acs:
        port = acs._server.server_address[1]
        for address in addresses_beside_loopback_one():
            with pytest.raises(OSError):
                socket.create_connection((address, port), timeout=1).close()
