"""A loopback fake of AWS IAM Identity Center: the ``sso-oidc`` device authorization and the
``sso`` portal (accounts, roles, role credentials), on 127.0.0.1.

No open implementation of Identity Center exists to run locally, so the tests bring this one.
It knows the wire format only through botocore's service models (``tests.integration.sso_wire``):
requests are decoded and validated against the input shapes, answers and errors against the
output and error shapes. ``tests/integration/test_sso_peer_botocore.py`` proves it honest by
driving it with botocore's own SSO token provider and SSO credential provider.

What it models of the service (and the tests rely on):

* RegisterClient registers a public client; a registration that asks for the
  ``sso:account:access`` scope is granted refresh tokens (as an ``sso-session`` is), one
  without scopes is not (the legacy registration).
* StartDeviceAuthorization for the fake's own start URL; CreateToken polls answer
  ``AuthorizationPendingException`` until the person approves (``approve``), or
  ``AccessDeniedException`` / ``ExpiredTokenException``; ``slow_down(n)`` answers the next
  ``n`` polls with ``SlowDownException``.
* CreateToken with ``grantType = refresh_token`` rotates the refresh token; a refresh token
  used twice, revoked, or of another client is ``InvalidGrantException``.
* The portal answers ``UnauthorizedException`` for an unknown or expired access token,
  pages ListAccounts and ListAccountRoles (``page_size`` items a page), and refuses
  GetRoleCredentials for a role the person does not hold with ``ForbiddenException`` — the
  answer the real service gives, although the model does not declare it.
* ``throttle(n)`` answers the next ``n`` requests with ``TooManyRequestsException`` (429).

The person's side (approving a code) and the test's knobs are under ``/_fake/`` and as methods.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.integration.sso_wire import Operation, WireError, find_operation
from tests.processes import free_port

__all__ = ["Assignment", "IdentityCenterFake", "running_fake"]

START_URL = "https://example-directory.awsapps.com/start"
REFRESH_SCOPE = "sso:account:access"
# Errors the real service answers that its model does not declare (status code).
_UNDECLARED = {"ForbiddenException": 403}

Minted = Callable[[str, str, str, int], dict[str, str]]


def random_credentials(user: str, account: str, role: str, lifetime: int) -> dict[str, str]:
    """Credentials of the right shape (not usable anywhere)."""
    return {
        "accessKeyId": "ASIA" + secrets.token_hex(8).upper(),
        "secretAccessKey": secrets.token_urlsafe(30),
        "sessionToken": secrets.token_urlsafe(64),
    }


@dataclass
class Assignment:
    """An account the person may use, with the roles (permission sets) they hold there."""

    account_id: str
    account_name: str
    email: str
    roles: tuple[str, ...]


@dataclass
class _Client:
    secret: str
    refresh: bool
    expires_at: int


@dataclass
class _Device:
    client_id: str
    user_code: str
    expires_at: float
    user: str | None = None
    denied: bool = False


@dataclass
class _Token:
    user: str
    client_id: str
    expires_at: float


@dataclass
class IdentityCenterFake:
    """The fake's state; thread-safe (the server answers on its own thread)."""

    directory: dict[str, list[Assignment]]
    start_url: str = START_URL
    token_lifetime: int = 3600
    credential_lifetime: int = 3600
    page_size: int = 2
    credentials: Minted = random_credentials
    base_url: str = ""
    now: Callable[[], float] = time.time
    calls: list[str] = field(default_factory=list)
    _clients: dict[str, _Client] = field(default_factory=dict)
    _devices: dict[str, _Device] = field(default_factory=dict)
    _access: dict[str, _Token] = field(default_factory=dict)
    _refresh: dict[str, _Token] = field(default_factory=dict)
    _throttle: int = 0
    _slow_down: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- the test's knobs ----------------------------------------------------------------

    def approve(self, user_code: str, user: str) -> None:
        """The person signs in as ``user`` and approves ``user_code``."""
        with self._lock:
            device = next(d for d in self._devices.values() if d.user_code == user_code)
            device.user = user

    def deny(self, user_code: str) -> None:
        with self._lock:
            next(d for d in self._devices.values() if d.user_code == user_code).denied = True

    def expire_access_tokens(self) -> None:
        """Every access token issued so far has expired."""
        with self._lock:
            for token in self._access.values():
                token.expires_at = 0

    def revoke_refresh_tokens(self) -> None:
        with self._lock:
            self._refresh.clear()

    def throttle(self, count: int) -> None:
        with self._lock:
            self._throttle = count

    def slow_down(self, count: int) -> None:
        with self._lock:
            self._slow_down = count

    def count(self, operation: str) -> int:
        with self._lock:
            return self.calls.count(operation)

    # -- sso-oidc ------------------------------------------------------------------------

    def _client(self, params: dict[str, Any]) -> _Client:
        client = self._clients.get(params["clientId"])
        if client is None or client.secret != params["clientSecret"]:
            raise WireError(
                "InvalidClientException",
                error="invalid_client",
                error_description="unknown client or wrong secret",
            )
        if client.expires_at <= self.now():
            raise WireError(
                "InvalidClientException",
                error="invalid_client",
                error_description="the client registration has expired",
            )
        return client

    def RegisterClient(self, params: dict[str, Any]) -> dict[str, Any]:
        if params["clientType"] != "public":
            raise WireError(
                "InvalidClientMetadataException",
                error="invalid_client_metadata",
                error_description="clientType must be public",
            )
        client_id = "client-" + secrets.token_urlsafe(12)
        issued = int(self.now())
        client = _Client(
            secret=secrets.token_urlsafe(48),
            refresh=REFRESH_SCOPE in params.get("scopes", []),
            expires_at=issued + 90 * 86400,
        )
        self._clients[client_id] = client
        return {
            "clientId": client_id,
            "clientSecret": client.secret,
            "clientIdIssuedAt": issued,
            "clientSecretExpiresAt": client.expires_at,
        }

    def StartDeviceAuthorization(self, params: dict[str, Any]) -> dict[str, Any]:
        self._client(params)
        if params["startUrl"] != self.start_url:
            raise WireError(
                "InvalidRequestException",
                error="invalid_request",
                error_description="no Identity Center instance has that start URL",
            )
        device_code = secrets.token_urlsafe(32)
        user_code = "-".join(secrets.token_hex(2).upper() for _ in range(2))
        self._devices[device_code] = _Device(params["clientId"], user_code, self.now() + 600)
        return {
            "deviceCode": device_code,
            "userCode": user_code,
            "verificationUri": f"{self.base_url}/start/#/device",
            "verificationUriComplete": f"{self.base_url}/start/#/device?user_code={user_code}",
            "expiresIn": 600,
            "interval": 1,
        }

    def _issue(self, user: str, client_id: str, client: _Client) -> dict[str, Any]:
        access = "aoa" + secrets.token_urlsafe(40)
        self._access[access] = _Token(user, client_id, self.now() + self.token_lifetime)
        answer: dict[str, Any] = {
            "accessToken": access,
            "tokenType": "Bearer",
            "expiresIn": self.token_lifetime,
        }
        if client.refresh:
            refresh = "aor" + secrets.token_urlsafe(40)
            self._refresh[refresh] = _Token(user, client_id, self.now() + 90 * 86400)
            answer["refreshToken"] = refresh
        return answer

    def CreateToken(self, params: dict[str, Any]) -> dict[str, Any]:
        client = self._client(params)
        grant = params["grantType"]
        if grant == "refresh_token":
            token = self._refresh.pop(params.get("refreshToken", ""), None)
            if token is None or token.client_id != params["clientId"]:
                raise WireError(
                    "InvalidGrantException",
                    error="invalid_grant",
                    error_description="the refresh token is not valid",
                )
            return self._issue(token.user, params["clientId"], client)
        if grant != "urn:ietf:params:oauth:grant-type:device_code":
            raise WireError(
                "UnsupportedGrantTypeException",
                error="unsupported_grant_type",
                error_description=f"grant type {grant} is not supported",
            )
        device = self._devices.get(params.get("deviceCode", ""))
        if device is None or device.client_id != params["clientId"]:
            raise WireError(
                "InvalidGrantException", error="invalid_grant", error_description="unknown device"
            )
        if device.expires_at <= self.now():
            raise WireError(
                "ExpiredTokenException", error="expired_token", error_description="code expired"
            )
        if device.denied:
            raise WireError(
                "AccessDeniedException", error="access_denied", error_description="denied"
            )
        if self._slow_down:
            self._slow_down -= 1
            raise WireError("SlowDownException", error="slow_down", error_description="slow down")
        if device.user is None:
            raise WireError(
                "AuthorizationPendingException",
                error="authorization_pending",
                error_description="waiting for the person",
            )
        del self._devices[params["deviceCode"]]
        return self._issue(device.user, params["clientId"], client)

    # -- sso (the portal) ----------------------------------------------------------------

    def _person(self, params: dict[str, Any]) -> str:
        token = self._access.get(params["accessToken"])
        if token is None or token.expires_at <= self.now():
            raise WireError("UnauthorizedException", message="Session token not found or invalid")
        return token.user

    def _page(self, items: list[Any], params: dict[str, Any]) -> tuple[list[Any], str | None]:
        start = int(params.get("nextToken") or 0)
        size = min(self.page_size, params.get("maxResults", self.page_size))
        end = start + size
        return items[start:end], (str(end) if end < len(items) else None)

    def ListAccounts(self, params: dict[str, Any]) -> dict[str, Any]:
        held = self.directory.get(self._person(params), [])
        page, following = self._page(held, params)
        answer: dict[str, Any] = {
            "accountList": [
                {"accountId": a.account_id, "accountName": a.account_name, "emailAddress": a.email}
                for a in page
            ]
        }
        if following:
            answer["nextToken"] = following
        return answer

    def _held(self, user: str, account_id: str) -> Assignment:
        for a in self.directory.get(user, []):
            if a.account_id == account_id:
                return a
        raise WireError("ResourceNotFoundException", message="No access to that account")

    def ListAccountRoles(self, params: dict[str, Any]) -> dict[str, Any]:
        held = self._held(self._person(params), params["accountId"])
        page, following = self._page(list(held.roles), params)
        answer: dict[str, Any] = {
            "roleList": [{"roleName": r, "accountId": held.account_id} for r in page]
        }
        if following:
            answer["nextToken"] = following
        return answer

    def GetRoleCredentials(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self._person(params)
        held = [a for a in self.directory.get(user, []) if a.account_id == params["accountId"]]
        if not held or params["roleName"] not in held[0].roles:
            raise WireError("ForbiddenException", message="No access")
        minted = self.credentials(
            user, params["accountId"], params["roleName"], self.credential_lifetime
        )
        expiration = int((self.now() + self.credential_lifetime) * 1000)
        return {"roleCredentials": {**minted, "expiration": expiration}}

    def Logout(self, params: dict[str, Any]) -> dict[str, Any]:
        self._person(params)
        self._access.pop(params["accessToken"], None)
        return {}

    # -- dispatch ------------------------------------------------------------------------

    def answer(self, operation: Operation, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.calls.append(operation.name)
            if self._throttle:
                self._throttle -= 1
                if operation.service == "sso":
                    raise WireError("TooManyRequestsException", message="Rate exceeded")
                raise WireError("SlowDownException", error="slow_down", error_description="slow")
            handler: Callable[[dict[str, Any]], dict[str, Any]] = getattr(self, operation.name)
            return handler(params)


def _encode_undeclared(error: WireError) -> tuple[int, dict[str, str], bytes]:
    headers = {"content-type": "application/json", "x-amzn-errortype": error.shape}
    return _UNDECLARED[error.shape], headers, json.dumps(error.members).encode()


def build_app(fake: IdentityCenterFake) -> Starlette:
    async def service(request: Request) -> Response:
        operation = find_operation(request.method, request.url.path)
        if operation is None:
            return JSONResponse({"message": "no such operation"}, status_code=404)
        body = await request.body()
        try:
            params = operation.decode(
                dict(request.headers), parse_qs(request.url.query, keep_blank_values=True), body
            )
            status, headers, content = operation.encode(fake.answer(operation, params))
        except WireError as exc:
            if exc.shape in _UNDECLARED:
                status, headers, content = _encode_undeclared(exc)
            else:
                status, headers, content = operation.encode_error(exc)
        return Response(content, status_code=status, headers=headers)

    async def approve(request: Request) -> Response:
        data = await request.json()
        fake.approve(data["user_code"], data["user"])
        return JSONResponse({"approved": data["user_code"]})

    async def deny(request: Request) -> Response:
        data = await request.json()
        fake.deny(data["user_code"])
        return JSONResponse({"denied": data["user_code"]})

    return Starlette(
        routes=[
            Route("/_fake/approve", approve, methods=["POST"]),
            Route("/_fake/deny", deny, methods=["POST"]),
            Route("/{path:path}", service, methods=["GET", "POST"]),
        ]
    )


@dataclass(frozen=True)
class RunningFake:
    url: str
    fake: IdentityCenterFake


def running_fake(fake: IdentityCenterFake) -> Iterator[RunningFake]:
    """Serve ``fake`` on a free 127.0.0.1 port for as long as the generator is open."""
    port = free_port()
    fake.base_url = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(
        uvicorn.Config(
            build_app(fake), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, name="identity-center-fake", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the Identity Center fake did not start on loopback")
        time.sleep(0.02)
    try:
        yield RunningFake(fake.base_url, fake)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def sample_directory() -> dict[str, list[Assignment]]:
    """Two people; one holds three accounts (more than a page) with several roles each."""
    return {
        "casey": [
            Assignment(
                "111122223333", "payments-dev", "dev@example.com", ("ReadOnly", "Developer")
            ),
            Assignment(
                "444455556666", "payments-prod", "prod@example.com", ("ReadOnly", "Admin", "Ops")
            ),
            Assignment("777788889999", "sandbox", "sandbox@example.com", ("Developer",)),
        ],
        "robin": [Assignment("111122223333", "payments-dev", "dev@example.com", ("ReadOnly",))],
    }
