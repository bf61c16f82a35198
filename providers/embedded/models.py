"""The embedded IdP's OAuth 2.0 models for authlib: its one client, codes, sessions, requests.

authlib's server is framework-agnostic; these are the "framework integration" parts it asks
for (an ``OAuth2Request`` built from a parsed query and form, a ``ClientMixin``, an
authorization-code object), kept apart from the grants that use them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import urlsplit

from authlib.oauth2 import OAuth2Request
from authlib.oauth2.rfc6749 import ClientMixin, OAuth2Payload
from authlib.oauth2.rfc8628 import DeviceCodeGrant

from providers.embedded.users import DemoUser

__all__ = [
    "CLIENT_ID",
    "CODE_SECONDS",
    "ID_TOKEN_SECONDS",
    "REFRESH_SECONDS",
    "SCOPES",
    "AuthorizationCode",
    "BrokerClient",
    "DemoSession",
    "FormRequest",
    "amr_of",
]

CLIENT_ID = "access-broker"
SCOPES = ("openid", "email", "profile", "groups", "offline_access")
ID_TOKEN_SECONDS = 3600
REFRESH_SECONDS = 12 * 3600
CODE_SECONDS = 120


@dataclass(frozen=True)
class DemoSession:
    """A signed-in demo user and when they signed in (kept across refreshes)."""

    user: DemoUser
    auth_time: int


class _Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, values: dict[str, list[str]]) -> None:
        self._values = values

    @property
    def data(self) -> dict[str, str]:
        return {k: v[0] for k, v in self._values.items() if v}

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return defaultdict(list, self._values)


class FormRequest(OAuth2Request):  # type: ignore[misc]
    """An ``OAuth2Request`` built from a parsed query string and form body."""

    def __init__(
        self,
        method: str,
        uri: str,
        headers: dict[str, str],
        query: dict[str, list[str]],
        form: dict[str, list[str]],
    ) -> None:
        super().__init__(method, uri, headers=headers)
        self._query = query
        self._form = form
        merged: dict[str, list[str]] = {k: list(v) for k, v in query.items()}
        for key, values in form.items():
            merged.setdefault(key, []).extend(values)
        self.payload = _Payload(merged)

    @property
    def args(self) -> dict[str, str]:
        return {k: v[0] for k, v in self._query.items() if v}

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in self._form.items() if v}


class BrokerClient(ClientMixin):  # type: ignore[misc]
    """The one client: the broker itself, public, PKCE, loopback redirects."""

    client_id = CLIENT_ID

    def get_client_id(self) -> str:
        return CLIENT_ID

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in (scope or "").split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        parts = urlsplit(redirect_uri)
        return (
            parts.scheme == "http"
            and parts.hostname == "127.0.0.1"
            and parts.port is not None
            and parts.path == "/callback"
            and not parts.query
            and not parts.fragment
        )

    def check_client_secret(self, client_secret: str) -> bool:
        return False

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "none"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in (
            "authorization_code",
            "refresh_token",
            DeviceCodeGrant.GRANT_TYPE,
        )


@dataclass
class AuthorizationCode:
    """authlib's ``AuthorizationCodeMixin`` (+ OIDC's): one pending code, in memory only."""

    code: str
    client_id: str
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    session: DemoSession
    expires_at: float

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.session.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> list[str]:
        return amr_of(self.session.user)


def amr_of(user: DemoUser) -> list[str]:
    """RFC 8176 ``amr`` for a demo user: ``mfa`` when the demo says they used a second factor."""
    return ["pwd", "mfa"] if user.mfa else ["pwd"]
