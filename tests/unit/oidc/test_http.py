"""The HTTP edge: a hostile or broken IdP cannot make the broker hold an unbounded answer."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from broker.errors import ProviderUnavailableError
from broker.tokens.oidc.http import MAX_RESPONSE_BYTES, make_client, send

CHUNK = 64 * 1024


def test_an_endless_answer_is_cut_off_at_the_cap() -> None:
    sent = 0

    def endless() -> Iterator[bytes]:
        nonlocal sent
        for _ in range(4096):  # 256 MiB if read whole; bounded so the test always ends
            sent += CHUNK
            yield b" " * CHUNK

    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=endless()))
    with make_client(5, transport) as client:
        with pytest.raises(ProviderUnavailableError, match="too large"):
            send(client, client.build_request("GET", "https://idp.example.com/jwks"), "JWKS")
    assert sent <= MAX_RESPONSE_BYTES + 2 * CHUNK


def test_an_answer_within_the_cap_is_read_whole() -> None:
    body = b'{"keys": []}' + b" " * (MAX_RESPONSE_BYTES - 20)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), CHUNK):
            yield body[start : start + CHUNK]

    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=chunks()))
    with make_client(5, transport) as client:
        response = send(client, client.build_request("GET", "https://idp.example.com/jwks"), "x")
    assert response.content == body
