"""Polling Identity Center's CreateToken until the person approves the device code.

The same rules as RFC 8628 §3.5, in Identity Center's words: ``AuthorizationPendingException``
keeps waiting, ``SlowDownException`` adds 5 s to this and every later wait,
``AccessDeniedException`` and ``ExpiredTokenException`` end the sign-in, and an unreachable
service doubles the wait until the device code's lifetime (or the caller's timeout) runs out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from broker.errors import AuthenticationError, ProviderUnavailableError
from broker.login_advice import plain_login_advice
from providers.identity_center.clients import error_code, error_text, one_line
from providers.identity_center.registration import Registration

__all__ = ["DEVICE_GRANT", "poll_for_token"]

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def poll_for_token(
    oidc: Any,
    registration: Registration,
    device: Mapping[str, Any],
    *,
    timeout: float,
    provider: str,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> dict[str, Any]:
    """CreateToken's answer once the person approved ``device``.

    Raises:
        AuthenticationError: denied, expired, not approved in time, or another refusal.
        ProviderUnavailableError: Identity Center stayed unreachable until the code expired.
    """
    import botocore.exceptions

    deadline = clock() + min(float(device.get("expiresIn") or 600), timeout)
    interval = float(max(1, int(device.get("interval") or 5)))
    backoff = 1.0
    unreachable: str | None = None
    again = plain_login_advice(provider, again=True)
    while True:
        if clock() + interval * backoff > deadline:
            if unreachable is not None:
                raise ProviderUnavailableError(
                    f"IAM Identity Center could not be reached before the device code expired "
                    f"({unreachable}); check your network, then ",
                    sign_in=again,
                )
            raise AuthenticationError(
                "the device sign-in was not approved in time; ", code="expired_token", sign_in=again
            )
        sleep(interval * backoff)
        try:
            answer: dict[str, Any] = oidc.create_token(
                clientId=registration.client_id,
                clientSecret=registration.client_secret,
                grantType=DEVICE_GRANT,
                deviceCode=device["deviceCode"],
            )
        except botocore.exceptions.ClientError as exc:
            unreachable, backoff = None, 1.0
            code = error_code(exc)
            if code == "AuthorizationPendingException":
                continue
            if code == "SlowDownException":
                interval += 5
                continue
            if code == "AccessDeniedException":
                raise AuthenticationError(
                    "the device sign-in was denied at IAM Identity Center", code="access_denied"
                ) from None
            if code == "ExpiredTokenException":
                raise AuthenticationError(
                    "the device code expired before approval; ", code="expired_token", sign_in=again
                ) from None
            raise AuthenticationError(
                f"IAM Identity Center refused the device sign-in ({code}: {error_text(exc)})",
                code=code,
            ) from None
        except botocore.exceptions.BotoCoreError as exc:
            unreachable, backoff = one_line(str(exc)), backoff * 2
            continue
        return answer
