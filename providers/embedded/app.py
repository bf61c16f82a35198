"""The embedded IdP as a WSGI application: discovery, JWKS, authorize, token, device, revoke.

The broker's own HTTP client reaches it in-process (``httpx.WSGITransport``); the browser
reaches the same application through ``issuer.EmbeddedIssuer`` on 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from authlib.oauth2 import OAuth2Error

from providers.embedded.authorization_server import EmbeddedAuthorizationServer
from providers.embedded.models import CLIENT_ID, DemoSession, FormRequest
from providers.embedded.pages import device_page, login_page, message_page
from providers.embedded.users import ISSUER

__all__ = ["EmbeddedApp", "StartResponse"]

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
_REASONS = {
    200: "OK",
    302: "Found",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
}
_MAX_BODY = 64 * 1024
_SECURITY_HEADERS = [
    ("Cache-Control", "no-store"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    (
        "Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http://127.0.0.1:*",
    ),
]


class EmbeddedApp:
    """Routes requests to the authlib server and the two pages."""

    def __init__(self, server: EmbeddedAuthorizationServer, clock: Callable[[], float]) -> None:
        self.server = server
        self._clock = clock

    # -- plumbing --------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "")
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        form: dict[str, list[str]] = {}
        if method == "POST":
            declared = str(environ.get("CONTENT_LENGTH") or "0")
            # Digits only: int() would take "-1" (read until the peer closes) or raise; nine
            # digits at most also keeps int() under its digit limit.
            digits = len(declared) <= 9 and declared.isascii() and declared.isdigit()
            length = int(declared) if digits else -1
            if not 0 <= length <= _MAX_BODY:
                return self._reply(start_response, 400, {"error": "invalid_request"})
            try:
                body = environ["wsgi.input"].read(length).decode()
            except UnicodeDecodeError:
                return self._reply(start_response, 400, {"error": "invalid_request"})
            form = parse_qs(body, keep_blank_values=True)
        headers = {"Content-Type": environ.get("CONTENT_TYPE", "")}
        if environ.get("HTTP_AUTHORIZATION"):
            headers["Authorization"] = environ["HTTP_AUTHORIZATION"]
        uri = self.server.state.base_url + path
        request = FormRequest(method, uri, headers, query, form)
        route = {
            ("GET", "/.well-known/openid-configuration"): self._discovery,
            ("GET", "/jwks"): self._jwks,
            ("GET", "/authorize"): self._authorize_page,
            ("POST", "/authorize"): self._authorize,
            ("POST", "/token"): self._token,
            ("POST", "/device_authorization"): self._device_authorization,
            ("GET", "/device"): self._device_page,
            ("POST", "/device"): self._device_answer,
            ("POST", "/revoke"): self._revoke,
        }.get((method, path))
        if route is None:
            return self._reply(start_response, 404, message_page("Not found", "Nothing here."))
        status, body, extra = route(request)
        return self._reply(start_response, status, body, extra)

    def _reply(
        self,
        start_response: StartResponse,
        status: int,
        body: Any,
        extra: list[tuple[str, str]] | None = None,
    ) -> list[bytes]:
        headers = list(_SECURITY_HEADERS)
        if isinstance(body, dict):
            content = json.dumps(body).encode()
            headers.append(("Content-Type", "application/json"))
        elif isinstance(body, bytes):
            content = body
            headers.append(("Content-Type", "text/html; charset=utf-8"))
        else:
            content = str(body or "").encode()
        names = {name.lower() for name, _ in headers}
        headers += [(k, v) for k, v in (extra or []) if k.lower() not in names]
        headers.append(("Content-Length", str(len(content))))
        start_response(f"{status} {_REASONS.get(status, 'Error')}", headers)
        return [content]

    # -- metadata --------------------------------------------------------------------------

    def _discovery(self, request: FormRequest) -> tuple[int, Any, list[tuple[str, str]]]:
        base = self.server.state.base_url
        return (
            200,
            {
                "issuer": ISSUER,
                "authorization_endpoint": f"{base}/authorize",
                "token_endpoint": f"{base}/token",
                "jwks_uri": f"{base}/jwks",
                "device_authorization_endpoint": f"{base}/device_authorization",
                "revocation_endpoint": f"{base}/revoke",
                "response_types_supported": ["code"],
                "grant_types_supported": [
                    "authorization_code",
                    "refresh_token",
                    "urn:ietf:params:oauth:grant-type:device_code",
                ],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["ES256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["none"],
                "scopes_supported": list(self.server.scopes_supported or ()),
                "claims_supported": ["sub", "email", "name", "groups", "amr", "auth_time"],
                "development_only": True,
            },
            [],
        )

    def _jwks(self, request: FormRequest) -> tuple[int, Any, list[tuple[str, str]]]:
        public = self.server.state.key.as_dict(private=False)
        return 200, {"keys": [{**public, "use": "sig", "alg": "ES256"}]}, []

    # -- authorization code ----------------------------------------------------------------

    def _authorize_page(self, request: FormRequest) -> tuple[int, Any, list[tuple[str, str]]]:
        try:
            self.server.get_consent_grant(request)
        except OAuth2Error as exc:
            return 400, message_page("Sign-in refused", f"{exc.error}: {exc.description}"), []
        users = self.server.state.users.values()
        return 200, login_page(users, request.args, request.args.get("login_hint")), []

    def _authorize(self, request: FormRequest) -> tuple[int, Any, list[tuple[str, str]]]:
        user = self.server.state.users.get(request.form.get("user", ""))
        try:
            grant = self.server.get_consent_grant(request)
        except OAuth2Error as exc:
            return 400, message_page("Sign-in refused", f"{exc.error}: {exc.description}"), []
        session = DemoSession(user, int(self._clock())) if user else None
        status, body, headers = self.server.create_authorization_response(
            request, grant_user=session, grant=grant
        )
        return status, body, headers

    # -- token, device, revocation ---------------------------------------------------------

    def _token(self, request: FormRequest) -> tuple[int, Any, list[tuple[str, str]]]:
        status, body, headers = self.server.create_token_response(request)
        return status, body, headers

    def _device_authorization(self, request: FormRequest) -> tuple[int, Any, list[tuple[str, str]]]:
        status, body, headers = self.server.create_endpoint_response(
            "device_authorization", request
        )
        return status, body, headers

    def _device_page(self, request: FormRequest) -> tuple[int, Any, list[tuple[str, str]]]:
        users = self.server.state.users.values()
        return 200, device_page(users, request.args.get("user_code", "")), []

    def _device_answer(self, request: FormRequest) -> tuple[int, Any, list[tuple[str, str]]]:
        code = request.form.get("user_code", "").strip().upper()
        user = (
            None
            if request.form.get("deny")
            else self.server.state.users.get(request.form.get("user", ""))
        )
        if not request.form.get("deny") and user is None:
            return 400, message_page("Not approved", "Pick a demo user."), []
        if not self.server.approve_device(code, user):
            return 400, message_page("Unknown code", "That code is unknown or expired."), []
        answer = "approved" if user else "denied"
        return 200, message_page("Done", f"The device was {answer}. You can close this tab."), []

    def _revoke(self, request: FormRequest) -> tuple[int, Any, list[tuple[str, str]]]:
        """RFC 7009: the refresh token is forgotten; 200 whether or not it was known."""
        if request.form.get("client_id") != CLIENT_ID:
            return 401, {"error": "invalid_client"}, []
        token = request.form.get("token")
        if token:
            self.server.state.refresh.take(token)
        return 200, "", []
