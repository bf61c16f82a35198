"""RFC 8628 OAuth 2.0 Device Authorization Grant: start (§3.1–3.2) and poll (§3.4–3.5).

Polling honours ``interval`` (default 5 s), adds 5 s for every ``slow_down`` (for all later
polls), keeps waiting on ``authorization_pending``, backs off exponentially while the IdP
cannot be reached, and stops on ``access_denied`` and ``expired_token`` or when the device
code's lifetime (or the caller's timeout) runs out.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from broker.errors import AuthenticationError, ProviderUnavailableError
from broker.tokens.oidc.discovery import is_allowed_url
from broker.tokens.oidc.http import OAuthErrorResponse
from providers.oidc.token_endpoint import ClientAuth, TokenResponse, post_form

__all__ = ["GRANT_TYPE", "DeviceAuthorization", "poll_for_token", "start_device_authorization"]

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"


@dataclass(frozen=True)
class DeviceAuthorization:
    """The IdP's §3.2 answer. ``device_code`` is a secret; the user code is shown."""

    device_code: str = field(repr=False)
    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_in: int
    interval: int = 5


def start_device_authorization(
    client: httpx.Client, endpoint: str, auth: ClientAuth, scope: str
) -> DeviceAuthorization:
    """Ask for a device code and user code (§3.1).

    Raises:
        AuthenticationError: the IdP refused (unknown client, grant not enabled ...).
        ProviderUnavailableError: network failure or a malformed answer.
    """
    try:
        data = post_form(client, endpoint, {"scope": scope}, auth, "device authorization")
    except OAuthErrorResponse as exc:
        raise AuthenticationError(
            f"the identity provider refused the device sign-in ({exc.error})", code=exc.error
        ) from None
    device_code, user_code = data.get("device_code"), data.get("user_code")
    uri = data.get("verification_uri")
    complete = data.get("verification_uri_complete")
    expires_in, interval = data.get("expires_in"), data.get("interval", 5)
    if (
        not isinstance(device_code, str)
        or not isinstance(user_code, str)
        or not isinstance(uri, str)
        or not is_allowed_url(uri)
        or not isinstance(expires_in, int)
        or not isinstance(interval, int)
    ):
        raise ProviderUnavailableError(
            "device authorization: the identity provider's answer is malformed"
        )
    return DeviceAuthorization(
        device_code=device_code,
        user_code=user_code,
        verification_uri=uri,
        verification_uri_complete=complete
        if isinstance(complete, str) and is_allowed_url(complete)
        else None,
        expires_in=expires_in,
        interval=max(1, interval),
    )


def poll_for_token(
    client: httpx.Client,
    token_endpoint: str,
    auth: ClientAuth,
    device: DeviceAuthorization,
    *,
    timeout: float,
    idp: str = "the identity provider",
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> TokenResponse:
    """Poll the token endpoint until the person approves, refuses, or time runs out.

    A poll that cannot reach the IdP (connection refused, timeout, 5xx) is not the end: §3.5
    asks for an exponentially increasing interval, so the wait doubles after each such failure
    (and returns to ``interval`` once the IdP answers again) until the device code expires.

    Args:
        idp: the provider's name, for the message when it stays unreachable.

    Raises:
        AuthenticationError: ``access_denied``, ``expired_token``, timeout, or another error.
        ProviderUnavailableError: the IdP could not be reached before the device code expired.
    """
    deadline = clock() + min(float(device.expires_in), timeout)
    interval = float(device.interval)
    backoff = 1.0
    unreachable: ProviderUnavailableError | None = None
    form = {"grant_type": GRANT_TYPE, "device_code": device.device_code}
    while True:
        if clock() + interval * backoff > deadline:
            if unreachable is not None:
                raise ProviderUnavailableError(
                    f"device sign-in: {idp} could not be reached before the device code "
                    "expired; check your network and the issuer URL, then sign in again"
                ) from None
            raise AuthenticationError(
                "the device sign-in was not approved in time; run the sign-in again",
                code="expired_token",
            )
        sleep(interval * backoff)
        try:
            data = post_form(client, token_endpoint, form, auth, "device token")
        except ProviderUnavailableError as exc:
            unreachable, backoff = exc, backoff * 2
            continue
        except OAuthErrorResponse as exc:
            unreachable, backoff = None, 1.0
            if exc.error == "authorization_pending":
                continue
            if exc.error == "slow_down":
                interval += 5  # §3.5: for this and every later request
                continue
            if exc.error == "access_denied":
                raise AuthenticationError(
                    "the device sign-in was denied at the identity provider", code=exc.error
                ) from None
            if exc.error == "expired_token":
                raise AuthenticationError(
                    "the device code expired before approval; run the sign-in again",
                    code=exc.error,
                ) from None
            raise AuthenticationError(
                f"the identity provider refused the device sign-in ({exc.error})", code=exc.error
            ) from None
        return TokenResponse.from_json(data)
