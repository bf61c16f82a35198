"""The AWS console sign-in URL for a session, through the federation endpoint.

AWS's custom identity broker flow (IAM User Guide, "Enable custom identity broker access to the
AWS console"): ``GET <federation>?Action=getSigninToken&Session=<JSON of the three parts>``
answers ``{"SigninToken": ...}``; the person then opens
``<federation>?Action=login&Issuer=...&Destination=...&SigninToken=...``. ``SessionDuration``
(900–43,200 s) may be sent for AssumeRole sessions only; a GetFederationToken session's
console lifetime is the token's own.

The URL grants console access: it is the answer (stdout), never logged. The request carries the
session's secret parts, so the federation endpoint must be HTTPS except on loopback (tests).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from broker.errors import ConfigError, StsError
from broker.minters.base import Credentials

__all__ = ["ConsoleRequest", "signin_url"]

_LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True)
class ConsoleRequest:
    """Where to send the person.

    Args:
        federation_url: the federation endpoint (``https://signin.aws.amazon.com/federation``).
        destination: the console page to land on.
        issuer: the broker's URL, shown by the console when the session ends.
        session_duration: console session seconds (AssumeRole sessions only), or ``None``.
    """

    federation_url: str
    destination: str
    issuer: str
    session_duration: int | None = None


def _check_endpoint(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK):
        return
    raise ConfigError(
        f"federation_url {url!r} must be https (plain http only on loopback); fix "
        "[minters.aws] federation_url"
    )


def signin_url(credentials: Credentials, request: ConsoleRequest, *, timeout: float = 15) -> str:
    """Exchange ``credentials`` for a sign-in token and build the console login URL.

    Raises:
        ConfigError: the federation endpoint is not HTTPS (or loopback).
        StsError: the endpoint refused the session (``code`` is the HTTP status) or is down.
    """
    import httpx

    _check_endpoint(request.federation_url)
    if request.session_duration is not None and not 900 <= request.session_duration <= 43_200:
        raise StsError(
            "SessionDuration must be 900..43200 seconds for the console", code="ValidationError"
        )
    session = json.dumps(
        {
            "sessionId": credentials.access_key_id,
            "sessionKey": credentials.secret_access_key,
            "sessionToken": credentials.session_token,
        }
    )
    params = {"Action": "getSigninToken", "Session": session}
    if request.session_duration is not None:
        params["SessionDuration"] = str(request.session_duration)
    try:
        answer = httpx.get(request.federation_url, params=params, timeout=timeout)
    except httpx.HTTPError as exc:
        raise StsError(
            f"the AWS federation endpoint cannot be reached ({type(exc).__name__}); retry later",
            code="ServiceUnavailable",
        ) from None
    if answer.status_code != 200:
        raise StsError(
            f"the AWS federation endpoint refused the session (HTTP {answer.status_code}); "
            "the credentials may be expired or not console-capable: refresh them and retry",
            code=str(answer.status_code),
        )
    try:
        token = answer.json()["SigninToken"]
    except (ValueError, KeyError, TypeError):
        token = None
    if not isinstance(token, str) or not token:
        raise StsError(
            "the AWS federation endpoint answered without a SigninToken; retry later",
            code="InvalidResponse",
        )
    query = urlencode(
        {
            "Action": "login",
            "Issuer": request.issuer,
            "Destination": request.destination,
            "SigninToken": token,
        }
    )
    return f"{request.federation_url}?{query}"
