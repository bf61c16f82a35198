"""The ``aws-identity-center`` minter: role credentials from AWS IAM Identity Center.

A profile ``minter = "aws-identity-center"`` whose provider is an ``aws-identity-center``
provider mints by calling the portal's GetRoleCredentials with the person's access token (from
``broker login``, refreshed headlessly by the credential chain while Identity Center granted a
refresh token). The broker holds no AWS credentials of its own for this: Identity Center
decides what the person holds, and refuses the rest. The session lasts as long as the
permission set says (GetRoleCredentials takes no duration; a profile may not set one).

Identity Center's refusals become one line saying what to do: an ended or revoked session
(``UnauthorizedException``) asks for ``broker login``; a role not held (``ForbiddenException``)
points at ``broker assignments``; throttling (after botocore's own back-off) asks to retry.
Every mint and refusal goes to the audit log before anything is handed out (never a token).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from broker.config import BrokerConfig
from broker.config.providers import provider_tables
from broker.errors import ConfigError, ReauthenticationRequired, SignInAgain, StsError
from broker.login_advice import plain_login_advice
from broker.minters.aws import AuditSink
from broker.minters.base import Credentials, MintRequest
from broker.minters.upstream_audit import UpstreamCall, open_audit_chain, record_upstream
from broker.sts.state_handle import StateHandle
from providers.base import SignInResult
from providers.identity_center.clients import error_code, error_text, make_client, one_line
from providers.identity_center.settings import IdentityCenterSettings, load_settings

__all__ = ["PROVIDER_TYPE", "IdentityCenterMinter", "build_minter", "identity_center_providers"]

PROVIDER_TYPE = "aws-identity-center"
ClientFactory = Callable[[IdentityCenterSettings, str], Any]


def identity_center_providers(config: BrokerConfig) -> dict[str, IdentityCenterSettings]:
    """Every ``[providers.NAME]`` of type ``aws-identity-center``, checked."""
    found: dict[str, IdentityCenterSettings] = {}
    for name, table in provider_tables(config).items():
        if table.get("type") == PROVIDER_TYPE:
            found[name] = load_settings(name, table, str(config.file))
    return found


class IdentityCenterMinter:
    """Mints with GetRoleCredentials; one portal client per provider."""

    name = "aws-identity-center"

    def __init__(
        self,
        providers: Mapping[str, IdentityCenterSettings],
        audit: AuditSink,
        *,
        client_factory: ClientFactory = make_client,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._providers = dict(providers)
        self._audit = audit
        self._client_factory = client_factory
        self._clock = clock
        self._clients: dict[str, Any] = {}

    def _settings(self, provider: str) -> IdentityCenterSettings:
        settings = self._providers.get(provider)
        if settings is None:
            raise ConfigError(
                f"the aws-identity-center minter mints only for providers of type "
                f"{PROVIDER_TYPE}, and {provider!r} is not one; set the profile's provider"
            )
        return settings

    def _client(self, provider: str, settings: IdentityCenterSettings) -> Any:
        if provider not in self._clients:
            self._clients[provider] = self._client_factory(settings, "sso")
        return self._clients[provider]

    def mint(self, identity: SignInResult, request: MintRequest) -> Credentials:
        """GetRoleCredentials for ``request.role_name`` in ``request.account_id``.

        Raises:
            ReauthenticationRequired: the sign-in has ended or was revoked at Identity Center.
            StsError: Identity Center refused (``AccessDenied``, ``Throttling``, ...).
            AuditError: the audit log cannot be written; nothing is handed out.
        """
        provider = identity.claims.provider
        settings = self._settings(provider)
        login = plain_login_advice(provider)
        if request.session_policy:
            refused = StsError(
                "IAM Identity Center's GetRoleCredentials takes no session policy; the "
                "permission set alone decides what the session may do (mint without one)",
                code="ValidationError",
            )
            self._record(identity, request, error_code=refused.code, message=refused.message)
            raise refused
        if not identity.access_token or identity.expires_at <= self._clock():
            error = ReauthenticationRequired(f"the {provider} session has ended: ", sign_in=login)
            self._record(identity, request, error_code="ExpiredToken", message=error.message)
            raise error
        try:
            answer = self._call(self._client(provider, settings), identity, request, login)
        except (ReauthenticationRequired, StsError) as exc:
            self._record(identity, request, error_code=exc.code, message=exc.message)
            raise
        raw = answer["roleCredentials"]
        credentials = Credentials(
            access_key_id=raw["accessKeyId"],
            secret_access_key=raw["secretAccessKey"],
            session_token=raw["sessionToken"],
            expiration=datetime.fromtimestamp(int(raw["expiration"]) / 1000, UTC),
        )
        self._record(identity, request, credentials=credentials)
        return credentials

    def _call(
        self, client: Any, identity: SignInResult, request: MintRequest, login: SignInAgain
    ) -> dict[str, Any]:
        import botocore.exceptions

        where = f"{request.role_name} in account {request.account_id}"
        try:
            answer: dict[str, Any] = client.get_role_credentials(
                roleName=request.role_name,
                accountId=request.account_id,
                accessToken=identity.access_token,
            )
        except botocore.exceptions.ClientError as exc:
            code = error_code(exc)
            if code == "UnauthorizedException":
                raise ReauthenticationRequired(
                    f"IAM Identity Center no longer accepts the {identity.claims.provider} "
                    "session (ended or revoked): ",
                    code="ExpiredToken",
                    sign_in=login,
                ) from None
            if code in ("ForbiddenException", "ResourceNotFoundException"):
                raise StsError(
                    f"IAM Identity Center says you do not hold {where}; `broker assignments "
                    f"--provider {identity.claims.provider}` lists what you hold",
                    code="AccessDenied",
                ) from None
            if code == "TooManyRequestsException":
                raise StsError(
                    "IAM Identity Center is throttling requests (still after retries); wait a "
                    "minute and try again",
                    code="Throttling",
                ) from None
            raise StsError(
                f"IAM Identity Center refused GetRoleCredentials for {where}: {code}: "
                f"{error_text(exc)}",
                code=code,
            ) from None
        except botocore.exceptions.BotoCoreError as exc:
            raise StsError(
                f"IAM Identity Center cannot be reached for {where}: {one_line(str(exc))}; "
                "retry later",
                code="ServiceUnavailable",
            ) from None
        return answer

    def _record(
        self,
        identity: SignInResult,
        request: MintRequest,
        *,
        credentials: Credentials | None = None,
        error_code: str | None = None,
        message: str | None = None,
    ) -> None:
        call = UpstreamCall(
            "GetRoleCredentials", "IdentityCenterUser", self.name, {}, source="sso.amazonaws.com"
        )
        refused = StsError(message or "", code=error_code) if error_code is not None else None
        record_upstream(
            self._audit,
            self._clock(),
            identity.claims,
            request,
            call,
            credentials=credentials,
            error=refused,
        )


def build_minter(config: BrokerConfig, state: StateHandle) -> IdentityCenterMinter:
    """The minter for every ``aws-identity-center`` provider, auditing to the broker's log."""
    return IdentityCenterMinter(identity_center_providers(config), open_audit_chain(state))
