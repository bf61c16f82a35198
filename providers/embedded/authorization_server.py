"""authlib's OAuth 2.0 / OIDC server components wired for the embedded development IdP.

Grants: authorization code with PKCE S256 required (RFC 6749 §4.1, RFC 7636) and OIDC's
``OpenIDCode`` (nonce, ID token); refresh token with rotation (RFC 6749 §6, each token
redeemed once, across processes); device code (RFC 8628). One public client, the broker,
whose redirect URI may be any ``http://127.0.0.1:{port}/callback`` (RFC 8252 §7.3).
Authorization codes and device codes live in memory: they never outlive one sign-in.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    InvalidRequestError,
)
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, RefreshTokenGrant
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc8628 import (
    DeviceAuthorizationEndpoint,
    DeviceCodeGrant,
    DeviceCredentialDict,
)
from authlib.oidc.core import OpenIDCode, OpenIDToken
from joserfc.jwk import ECKey

from providers.embedded.models import (
    CLIENT_ID,
    CODE_SECONDS,
    ID_TOKEN_SECONDS,
    REFRESH_SECONDS,
    SCOPES,
    AuthorizationCode,
    BrokerClient,
    DemoSession,
    FormRequest,
    amr_of,
)
from providers.embedded.refresh_store import RefreshRecord, RefreshStore
from providers.embedded.users import ISSUER, DemoUser

__all__ = ["EmbeddedAuthorizationServer"]


@dataclass
class _State:
    """What the grants share: keys, users, the refresh store, the in-memory codes."""

    key: ECKey
    users: dict[str, DemoUser]
    refresh: RefreshStore
    base_url: str
    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    devices: dict[str, DeviceCredentialDict] = field(default_factory=dict)
    approvals: dict[str, tuple[DemoSession, bool]] = field(default_factory=dict)
    polls: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _IdTokens:
    """How every grant signs its ID token: ES256 with the keyring key, claims of the user."""

    state: _State

    def resolve_client_private_key(self, client: Any) -> ECKey:
        return self.state.key

    def get_client_algorithm(self, client: Any) -> str:
        return "ES256"

    def get_client_claims(self, client: Any) -> dict[str, Any]:
        return {"iss": ISSUER, "aud": [CLIENT_ID]}

    def get_encode_header(self, client: Any) -> dict[str, str]:
        return {"alg": "ES256", "kid": str(self.state.key.kid), "typ": "JWT"}

    def generate_user_info(self, session: DemoSession, scope: str) -> dict[str, Any]:
        user = session.user
        scopes = set(scope.split())
        info: dict[str, Any] = {
            "sub": user.subject,
            "auth_time": session.auth_time,
            "amr": amr_of(user),
            "development_only": True,
        }
        if "email" in scopes:
            info |= {"email": user.email, "email_verified": True}
        if "profile" in scopes:
            info |= {"name": user.name, "preferred_username": user.username}
        if "groups" in scopes:
            info["groups"] = list(user.groups)
        return info


class _S256Only(CodeChallenge):  # type: ignore[misc]
    """PKCE required on every authorization request, S256 only (RFC 9700 §2.1.1)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ("S256",)

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge") or data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE with code_challenge_method=S256 is required")
        super().validate_code_challenge(grant, redirect_uri)


class _OpenIDCode(_IdTokens, OpenIDCode):  # type: ignore[misc]
    def __init__(self, state: _State) -> None:
        super().__init__(require_nonce=True)
        self.state = state

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        with self.state.lock:
            return any(code.nonce == nonce for code in self.state.codes.values())


class _OpenIDToken(_IdTokens, OpenIDToken):  # type: ignore[misc]
    def __init__(self, state: _State) -> None:
        self.state = state


def _grants(state: _State) -> tuple[type, type, type, type]:
    """The grant classes, closed over ``state`` (authlib instantiates grants per request)."""

    class CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
        TOKEN_ENDPOINT_AUTH_METHODS = ["none"]  # noqa: RUF012 (authlib's class attribute)

        def save_authorization_code(self, code: str, request: Any) -> None:
            data = request.payload.data
            with state.lock:
                state.codes[code] = AuthorizationCode(
                    code=code,
                    client_id=request.client.get_client_id(),
                    redirect_uri=request.payload.redirect_uri,
                    scope=request.payload.scope,
                    nonce=data.get("nonce"),
                    code_challenge=data.get("code_challenge"),
                    code_challenge_method=data.get("code_challenge_method"),
                    session=request.user,
                    expires_at=time.time() + CODE_SECONDS,
                )

        def query_authorization_code(self, code: str, client: Any) -> AuthorizationCode | None:
            # Redeemed on first look, so two racing exchanges of one code cannot both win.
            with state.lock:
                found = state.codes.pop(code, None)
            if found is None or found.expires_at < time.time():
                return None
            return found if found.client_id == client.get_client_id() else None

        def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
            with state.lock:
                state.codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code: AuthorizationCode) -> DemoSession:
            return authorization_code.session

    class RefreshGrant(RefreshTokenGrant):  # type: ignore[misc]
        TOKEN_ENDPOINT_AUTH_METHODS = ["none"]  # noqa: RUF012
        INCLUDE_NEW_REFRESH_TOKEN = True

        def authenticate_refresh_token(self, refresh_token: str) -> RefreshRecord | None:
            return state.refresh.take(refresh_token)

        def authenticate_user(self, record: RefreshRecord) -> DemoSession | None:
            user = state.users.get(record.username)
            return DemoSession(user, record.auth_time) if user else None

        def revoke_old_credential(self, refresh_token: RefreshRecord) -> None:
            """Nothing left to do: ``take`` removed the old token when it was redeemed."""

    class DeviceGrant(DeviceCodeGrant):  # type: ignore[misc]
        TOKEN_ENDPOINT_AUTH_METHODS = ["none"]  # noqa: RUF012

        def query_device_credential(self, device_code: str) -> DeviceCredentialDict | None:
            with state.lock:
                return state.devices.get(device_code)

        def query_user_grant(self, user_code: str) -> tuple[DemoSession, bool] | None:
            with state.lock:
                return state.approvals.get(user_code)

        def should_slow_down(self, credential: DeviceCredentialDict) -> bool:
            now = time.time()
            with state.lock:
                last = state.polls.get(credential["device_code"])
                state.polls[credential["device_code"]] = now
            return last is not None and now - last < DeviceEndpoint.INTERVAL - 0.5

        def create_token_response(self) -> Any:
            answer = super().create_token_response()
            with state.lock:  # a device code is redeemed once
                state.devices.pop(self.request.credential["device_code"], None)
                state.approvals.pop(self.request.credential["user_code"], None)
            return answer

    class DeviceEndpoint(DeviceAuthorizationEndpoint):  # type: ignore[misc]
        CLIENT_AUTH_METHODS = ["none"]  # noqa: RUF012
        EXPIRES_IN = 600

        def get_verification_uri(self) -> str:
            return f"{state.base_url}/device"

        def save_device_credential(self, client_id: str, scope: str, data: dict[str, Any]) -> None:
            credential = DeviceCredentialDict(
                client_id=client_id,
                scope=scope,
                user_code=data["user_code"],
                device_code=data["device_code"],
                expires_at=time.time() + self.EXPIRES_IN,
            )
            with state.lock:
                state.devices[data["device_code"]] = credential

    return CodeGrant, RefreshGrant, DeviceGrant, DeviceEndpoint


class _Tokens(BearerTokenGenerator):  # type: ignore[misc]
    """Bearer tokens; with a refresh token, when the session ends (``refresh_expires_in``), so
    the broker never mints credentials outliving it. The session lasts ``REFRESH_SECONDS``
    from sign-in however often it is refreshed, as an IdP's absolute session lifetime does."""

    def generate(
        self,
        grant_type: str,
        client: Any,
        user: Any = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        token: dict[str, Any] = super().generate(
            grant_type, client, user, scope, expires_in, include_refresh_token
        )
        if "refresh_token" in token and isinstance(user, DemoSession):
            token["refresh_expires_in"] = max(
                0, user.auth_time + REFRESH_SECONDS - int(time.time())
            )
        return token


class EmbeddedAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    """authlib's ``AuthorizationServer`` with in-memory codes and on-disk refresh hashes.

    Responses come back as ``(status, body, headers)``; the WSGI app writes them out.
    """

    def __init__(
        self, key: ECKey, users: dict[str, DemoUser], refresh: RefreshStore, base_url: str
    ) -> None:
        super().__init__(scopes_supported=list(SCOPES))
        self.state = _State(key=key, users=users, refresh=refresh, base_url=base_url)
        self._client = BrokerClient()
        code, refresh_grant, device, endpoint = _grants(self.state)
        self.register_grant(code, [_S256Only(required=True), _OpenIDCode(self.state)])
        self.register_grant(refresh_grant, [_OpenIDToken(self.state)])
        self.register_grant(device, [_OpenIDToken(self.state)])
        self.register_endpoint(endpoint)
        self.register_token_generator(
            "default",
            _Tokens(
                access_token_generator=lambda **_: secrets.token_urlsafe(32),
                refresh_token_generator=lambda **_: secrets.token_urlsafe(48),
                expires_generator=lambda client, grant_type: ID_TOKEN_SECONDS,
            ),
        )

    def query_client(self, client_id: str) -> BrokerClient | None:
        return self._client if client_id == CLIENT_ID else None

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        refresh_token = token.get("refresh_token")
        if refresh_token is None:
            return
        session: DemoSession = request.user
        self.state.refresh.add(
            refresh_token,
            RefreshRecord(
                username=session.user.username,
                client_id=request.client.get_client_id(),
                scope=token.get("scope", ""),
                auth_time=session.auth_time,
                expires_at=session.auth_time + REFRESH_SECONDS,
            ),
        )

    def create_oauth2_request(self, request: FormRequest) -> FormRequest:
        return request

    def handle_response(
        self, status: int, body: Any, headers: list[tuple[str, str]]
    ) -> tuple[int, Any, list[tuple[str, str]]]:
        return status, body, list(headers)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No listeners: the embedded IdP has no signal system."""

    def approve_device(self, user_code: str, user: DemoUser | None) -> bool:
        """Record the person's answer for ``user_code`` (None = deny); False if unknown."""
        with self.state.lock:
            if not any(d["user_code"] == user_code for d in self.state.devices.values()):
                return False
            self.state.approvals[user_code] = (
                DemoSession(user, int(time.time())) if user else DemoSession(_NOBODY, 0),
                user is not None,
            )
            return True


_NOBODY = DemoUser(username="", email="", name="")
