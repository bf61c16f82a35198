"""RFC 8252 loopback listener: 127.0.0.1 only, one callback, Host checked, then closed."""

from __future__ import annotations

import socket

import httpx
import pytest

from broker.errors import AuthenticationError
from providers.oidc.loopback_redirect import LoopbackRedirect
from tests.conftest import addresses_beside_loopback_one

ISSUER = "https://idp.example.com"


def get(url: str, **kw) -> httpx.Response:
    return httpx.get(url, timeout=2, trust_env=False, **kw)


def test_binds_loopback_only_on_an_ephemeral_port() -> None:
    with LoopbackRedirect("s", ISSUER) as listener:
        host, port = listener._server.server_address[:2]
        assert host == "127.0.0.1" and port > 1024
        assert listener.redirect_uri == f"http://127.0.0.1:{port}/callback"


def test_one_callback_then_closed() -> None:
    listener = LoopbackRedirect("state-1", ISSUER)
    assert get(listener.redirect_uri.replace("/callback", "/favicon.ico")).status_code == 404
    page = get(listener.redirect_uri + "?code=c-1&state=state-1")
    assert page.status_code == 200 and "close this tab" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert listener.wait(2).code == "c-1"
    with pytest.raises(httpx.ConnectError):
        get(listener.redirect_uri + "?code=c-2&state=state-1")


def test_foreign_host_header_is_ignored() -> None:
    """DNS rebinding: a page on attacker.example resolving to 127.0.0.1 is not the callback."""
    with LoopbackRedirect("s", ISSUER) as listener:
        answer = get(listener.redirect_uri + "?code=c&state=s", headers={"Host": "evil.example"})
        assert answer.status_code == 404
        assert get(listener.redirect_uri + "?code=c&state=s").status_code == 200


def test_wrong_state_fails_the_sign_in() -> None:
    listener = LoopbackRedirect("good", ISSUER)
    assert get(listener.redirect_uri + "?code=c&state=bad").status_code == 400
    with pytest.raises(AuthenticationError) as caught:
        listener.wait(2)
    assert caught.value.code == "state_mismatch"


def test_not_reachable_on_other_interfaces() -> None:
    # 127.0.0.2 always answers for a listener bound to 0.0.0.0, so this cannot pass vacuously
    # on a host whose name resolves only to 127.0.0.1.
    with LoopbackRedirect("s", ISSUER) as listener:
        port = listener._server.server_address[1]
        for address in addresses_beside_loopback_one():
            with pytest.raises(OSError):
                socket.create_connection((address, port), timeout=1).close()


def test_response_from_another_issuer_is_refused() -> None:
    """RFC 9207 mix-up defence: an ``iss`` in the response must be the issuer we asked."""
    listener = LoopbackRedirect("s", ISSUER)
    other = "https://attacker.example"
    assert get(listener.redirect_uri, params={"code": "c", "state": "s", "iss": other}).is_error
    with pytest.raises(AuthenticationError) as caught:
        listener.wait(2)
    assert caught.value.code == "invalid_issuer"


def test_matching_iss_and_malformed_error_codes() -> None:
    listener = LoopbackRedirect("s", ISSUER)
    get(listener.redirect_uri, params={"code": "c", "state": "s", "iss": ISSUER})
    assert listener.wait(2).code == "c"
    listener = LoopbackRedirect("s", ISSUER)
    get(listener.redirect_uri, params={"state": "s", "error": "bad\nline <b>"})
    with pytest.raises(AuthenticationError) as caught:
        listener.wait(2)
    assert caught.value.code == "malformed_error" and "\n" not in str(caught.value)


def test_missing_iss_is_refused_when_the_issuer_always_sends_it() -> None:
    """RFC 9207 §2.4: when the metadata says ``authorization_response_iss_parameter_supported``,
    a response without ``iss`` is refused (else a mix-up attacker simply leaves it out)."""
    listener = LoopbackRedirect("s", ISSUER, require_iss=True)
    get(listener.redirect_uri, params={"code": "c", "state": "s"})
    with pytest.raises(AuthenticationError) as caught:
        listener.wait(2)
    assert caught.value.code == "invalid_issuer"
    listener = LoopbackRedirect("s", ISSUER, require_iss=True)
    get(listener.redirect_uri, params={"code": "c", "state": "s", "iss": ISSUER})
    assert listener.wait(2).code == "c"
