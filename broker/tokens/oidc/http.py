"""The HTTP edge shared by every OIDC module: one client shape, one mapping of failures.

Why one place: every request to the IdP must turn a network failure or a 5xx into
``ProviderUnavailableError`` (transient, keep stored sessions) and never follow redirects
silently (a redirected token request would send our code or secret somewhere else).
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from broker.errors import ProviderUnavailableError
from broker.proxy_hint import proxy_hint

__all__ = [
    "MAX_RESPONSE_BYTES",
    "OAuthErrorResponse",
    "make_client",
    "read_json",
    "safe_code",
    "send",
]

MAX_RESPONSE_BYTES = 256 * 1024
"""Larger IdP answers are refused: discovery, JWKS and token responses are a few KB."""


_CODE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


def safe_code(value: str) -> str:
    """An IdP-supplied error code fit for a one-line message: RFC 6749's charset, bounded."""
    return value if _CODE.fullmatch(value) else "malformed_error"


class OAuthErrorResponse(Exception):
    """An RFC 6749 §5.2 error answer; callers decide which broker error it becomes.

    Never shown to the user as is: ``description`` comes from the IdP and is only used after
    being cut to one line.
    """

    def __init__(self, error: str, description: str | None, status: int) -> None:
        super().__init__(safe_code(error))
        self.error = safe_code(error)
        self.description = " ".join((description or "").split())[:200] or None
        self.status = status


def make_client(timeout: float, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """An httpx client for one provider: bounded timeout, no redirects, no cookies kept."""
    return httpx.Client(
        timeout=timeout,
        follow_redirects=False,
        transport=transport,
        headers={"Accept": "application/json", "User-Agent": "access-broker"},
    )


def send(client: httpx.Client, request: httpx.Request, what: str) -> httpx.Response:
    """Send ``request``; network failures, 5xx and answers over ``MAX_RESPONSE_BYTES``
    (counted as they arrive, after decompression, so nothing larger is ever held) become
    ``ProviderUnavailableError``."""
    try:
        response = _read_capped(client.send(request, stream=True), what)
    except httpx.TimeoutException:
        raise ProviderUnavailableError(
            f"{what}: the identity provider did not answer in time"
            f"{proxy_hint(str(request.url))}; check it is up and retry"
        ) from None
    except httpx.HTTPError as exc:
        through = proxy_hint(str(request.url))
        raise ProviderUnavailableError(
            f"{what}: cannot reach the identity provider ({type(exc).__name__})"
            + (through if through else "; check the issuer URL and your network")
        ) from None
    if response.status_code >= 500:
        raise ProviderUnavailableError(
            f"{what}: the identity provider answered HTTP {response.status_code}; retry later"
        )
    return response


# Headers that describe the body as sent on the wire, not the decoded bytes we keep.
_WIRE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


def _read_capped(streamed: httpx.Response, what: str) -> httpx.Response:
    """The answer read whole, refusing it as soon as it passes the cap."""
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in streamed.iter_bytes():
            size += len(chunk)
            if size > MAX_RESPONSE_BYTES:
                raise ProviderUnavailableError(
                    f"{what}: the identity provider's answer is too large"
                )
            chunks.append(chunk)
    finally:
        streamed.close()
    headers = [(k, v) for k, v in streamed.headers.multi_items() if k.lower() not in _WIRE_HEADERS]
    return httpx.Response(
        streamed.status_code, headers=headers, content=b"".join(chunks), request=streamed.request
    )


def read_json(response: httpx.Response, what: str) -> dict[str, Any]:
    """The JSON object in ``response``; an OAuth error body raises ``OAuthErrorResponse``.

    Raises:
        OAuthErrorResponse: a 4xx answer carrying an RFC 6749 ``error``.
        ProviderUnavailableError: anything that is not a JSON object (a proxy page, HTML).
    """
    try:
        data = json.loads(response.content)
    except ValueError:
        data = None
    if response.status_code >= 400:
        if isinstance(data, dict) and isinstance(data.get("error"), str):
            description = data.get("error_description")
            raise OAuthErrorResponse(
                data["error"],
                description if isinstance(description, str) else None,
                response.status_code,
            )
        raise ProviderUnavailableError(
            f"{what}: the identity provider answered HTTP {response.status_code}"
        )
    if not isinstance(data, dict):
        raise ProviderUnavailableError(f"{what}: the identity provider's answer is not JSON")
    return data
