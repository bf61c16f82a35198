"""``IdentityCenterProvider``: sign in at AWS IAM Identity Center with its device authorization.

What ``aws sso login`` does, with the tokens kept in the OS keyring instead of
``~/.aws/sso/cache``: register a public OIDC client (reused while valid, see
``registration``), StartDeviceAuthorization for the configured start URL, show the
verification URI and user code (and open the browser where one can open, unless the person
asked for ``--device``), then poll CreateToken. The access token is what the portal and the
``aws-identity-center`` minter present; the refresh token (granted for the
``sso:account:access`` scope) renews it headlessly with grant type ``refresh_token``.

Identity Center tells its OIDC clients nothing about who signed in (CreateToken's ``idToken``
is not issued), so the claims name the instance (issuer: the start URL) and this sign-in (a
random subject kept with the registration, the same across refreshes). The person's name
appears at AWS: GetRoleCredentials sessions carry it, and AWS CloudTrail records it.
"""

from __future__ import annotations

import secrets as token_source
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Self

from broker.errors import (
    ProviderUnavailableError,
    ReauthenticationRequired,
)
from broker.login_advice import plain_login_advice
from providers.base import (
    Capabilities,
    Claims,
    ProviderContext,
    SecretStore,
    SignInOptions,
    SignInResult,
)
from providers.identity_center.clients import error_code, error_text, make_client, one_line
from providers.identity_center.device import poll_for_token
from providers.identity_center.registration import current, forget, registered
from providers.identity_center.settings import IdentityCenterSettings, load_settings

__all__ = ["IdentityCenterProvider"]

_SUBJECT_KEY = "identity-center:subject"
# CreateToken refusals of a refresh token that mean: only a new sign-in helps.
_REFRESH_REFUSED = frozenset(
    {
        "InvalidGrantException",
        "ExpiredTokenException",
        "InvalidClientException",
        "UnauthorizedClientException",
        "AccessDeniedException",
    }
)


class IdentityCenterProvider:
    """AWS IAM Identity Center (``type = "aws-identity-center"``).

    Args:
        name: the provider's configured name.
        settings: its checked settings.
        secrets: the keyring-backed store for the client registration.
        client_factory: builds a botocore client for a service (tests may pass their own).
        sleep, clock: how device polling waits and measures (tests pass fakes).
        now: the wall clock (token and registration expiry).
    """

    def __init__(
        self,
        name: str,
        settings: IdentityCenterSettings,
        secrets: SecretStore,
        *,
        client_factory: Callable[[IdentityCenterSettings, str], Any] = make_client,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.settings = settings
        self._secrets = secrets
        self._client_factory = client_factory
        self._clients: dict[str, Any] = {}
        self._sleep = sleep
        self._clock = clock
        self._now = now

    @classmethod
    def from_config(cls, name: str, settings: Mapping[str, Any], context: ProviderContext) -> Self:
        return cls(name, load_settings(name, settings), context.secrets)

    def capabilities(self) -> Capabilities:
        return Capabilities(browser=False, device=True, refresh=True)

    def _client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._client_factory(self.settings, service)
        return self._clients[service]

    def _unreachable(self, exc: Exception) -> ProviderUnavailableError:
        return ProviderUnavailableError(
            f"IAM Identity Center for {self.name} ({self.settings.region}) cannot be reached: "
            f"{one_line(str(exc))}; check your network and the provider's region/endpoint_url"
        )

    def _result(self, token: Mapping[str, Any], subject: str) -> SignInResult:
        lifetime = int(token.get("expiresIn") or 0)
        if not token.get("accessToken") or lifetime <= 0:
            raise ProviderUnavailableError("IAM Identity Center answered without an access token")
        start_url = self.settings.start_url
        return SignInResult(
            claims=Claims(
                provider=self.name,
                issuer=start_url,
                subject=subject,
                name=f"a user of {start_url}",
                attributes={"aws_region": (self.settings.region,)},
            ),
            expires_at=datetime.fromtimestamp(self._now(), UTC) + timedelta(seconds=lifetime),
            refresh_token=token.get("refreshToken") or None,
            access_token=str(token["accessToken"]),
        )

    def _start(self, oidc: Any) -> tuple[Any, dict[str, Any]]:
        """A registration and a started device authorization; registers anew once if
        Identity Center no longer knows the stored registration."""
        import botocore.exceptions

        for attempt in (1, 2):
            registration = registered(
                oidc, self._secrets, self.settings.start_url, self.settings.client_name, self._now()
            )
            try:
                device: dict[str, Any] = oidc.start_device_authorization(
                    clientId=registration.client_id,
                    clientSecret=registration.client_secret,
                    startUrl=self.settings.start_url,
                )
                return registration, device
            except botocore.exceptions.ClientError as exc:
                if error_code(exc) == "InvalidClientException" and attempt == 1:
                    forget(self._secrets)
                    continue
                raise ProviderUnavailableError(
                    f"IAM Identity Center refused to start the sign-in ({error_code(exc)}: "
                    f"{error_text(exc)}); check start_url and region of {self.name}"
                ) from None
        raise AssertionError("unreachable")

    def sign_in(self, options: SignInOptions) -> SignInResult:
        """The device authorization (the only flow Identity Center offers its CLI clients)."""
        import botocore.exceptions

        if not options.interactive:
            raise ReauthenticationRequired(
                f"signing in to {self.name} needs you at a browser: run `broker login {self.name}`"
            )
        oidc = self._client("sso-oidc")
        try:
            registration, device = self._start(oidc)
        except botocore.exceptions.BotoCoreError as exc:
            raise self._unreachable(exc) from None
        complete = device.get("verificationUriComplete")
        options.ui.show_device_code(
            device["verificationUri"], device["userCode"], complete, int(device["expiresIn"])
        )
        if not options.device:
            options.ui.open_url(complete or device["verificationUri"])
        options.ui.status("Waiting for approval at IAM Identity Center…")
        token = poll_for_token(
            oidc,
            registration,
            device,
            timeout=options.timeout,
            provider=self.name,
            sleep=self._sleep,
            clock=self._clock,
        )
        subject = "signin-" + token_source.token_hex(8)
        self._secrets.set_secret(_SUBJECT_KEY, subject)
        return self._result(token, subject)

    def refresh(self, refresh_token: str) -> SignInResult:
        """CreateToken with grant type ``refresh_token``; the refresh token rotates.

        Raises:
            ReauthenticationRequired: refused, or the client registration has ended.
            ProviderUnavailableError: Identity Center cannot be reached.
        """
        import botocore.exceptions

        again = plain_login_advice(self.name)
        registration = current(self._secrets, self.settings.start_url, self._now())
        subject = self._secrets.get_secret(_SUBJECT_KEY)
        if registration is None or not subject:
            raise ReauthenticationRequired(
                f"the broker's registration at IAM Identity Center for {self.name} has ended: ",
                code="invalid_grant",
                sign_in=again,
            )
        try:
            token = self._client("sso-oidc").create_token(
                clientId=registration.client_id,
                clientSecret=registration.client_secret,
                grantType="refresh_token",
                refreshToken=refresh_token,
            )
        except botocore.exceptions.ClientError as exc:
            code = error_code(exc)
            if code in _REFRESH_REFUSED:
                raise ReauthenticationRequired(
                    f"IAM Identity Center refused to renew the {self.name} session ({code}): ",
                    code="invalid_grant",
                    sign_in=again,
                ) from None
            raise ProviderUnavailableError(
                f"IAM Identity Center could not renew the {self.name} session now ({code}: "
                f"{error_text(exc)}); retry later"
            ) from None
        except botocore.exceptions.BotoCoreError as exc:
            raise self._unreachable(exc) from None
        return self._result(token, subject)

    def sign_out(self, result: SignInResult) -> None:
        """Logout at the portal, which ends the access token's session."""
        import botocore.exceptions

        if not result.access_token:
            return
        try:
            self._client("sso").logout(accessToken=result.access_token)
        except botocore.exceptions.ClientError as exc:
            if error_code(exc) != "UnauthorizedException":  # already ended
                raise ProviderUnavailableError(
                    f"IAM Identity Center refused to sign out ({error_code(exc)})"
                ) from None
        except botocore.exceptions.BotoCoreError as exc:
            raise self._unreachable(exc) from None
