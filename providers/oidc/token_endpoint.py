"""RFC 6749 §3.2 token endpoint requests (code exchange §4.1.3, refresh §6) and client auth §2.3.

A public client (the default) sends only ``client_id``; a confidential one authenticates with
``client_secret_basic`` or ``client_secret_post``, its secret read from the keyring by the
provider, never from configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from broker.errors import AuthenticationError
from broker.tokens.oidc.http import read_json, send

__all__ = ["ClientAuth", "TokenResponse", "post_form"]


@dataclass(frozen=True)
class ClientAuth:
    """How this client identifies itself at the token endpoint."""

    client_id: str
    method: Literal["none", "client_secret_basic", "client_secret_post"] = "none"
    secret: str | None = field(default=None, repr=False)

    def apply(self, form: dict[str, str]) -> dict[str, str]:
        """Headers to send; ``form`` gains the fields the method puts in the body."""
        if self.method == "client_secret_basic" and self.secret is not None:
            basic = httpx.BasicAuth(self.client_id, self.secret)
            request = next(basic.auth_flow(httpx.Request("POST", "http://x")))
            return {"Authorization": request.headers["Authorization"]}
        form["client_id"] = self.client_id
        if self.method == "client_secret_post" and self.secret is not None:
            form["client_secret"] = self.secret
        return {}


@dataclass(frozen=True)
class TokenResponse:
    """RFC 6749 §5.1 (plus OIDC's ``id_token``). Every token here is a secret."""

    access_token: str = field(repr=False)
    token_type: str
    expires_in: int | None = None
    refresh_token: str | None = field(default=None, repr=False)
    id_token: str | None = field(default=None, repr=False)
    scope: str | None = None
    refresh_expires_in: int | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TokenResponse:
        def optional_int(name: str) -> int | None:
            value = data.get(name)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        def optional_str(name: str) -> str | None:
            value = data.get(name)
            return value if isinstance(value, str) and value else None

        access = optional_str("access_token")
        token_type = optional_str("token_type")
        if access is None or token_type is None:
            raise AuthenticationError(
                "the identity provider's token answer lacks access_token or token_type"
            )
        return cls(
            access_token=access,
            token_type=token_type,
            expires_in=optional_int("expires_in"),
            refresh_token=optional_str("refresh_token"),
            id_token=optional_str("id_token"),
            scope=optional_str("scope"),
            refresh_expires_in=optional_int("refresh_expires_in"),
        )


def post_form(
    client: httpx.Client, url: str, form: dict[str, str], auth: ClientAuth, what: str
) -> dict[str, Any]:
    """POST ``form`` (with client authentication) and return the JSON answer.

    Raises:
        OAuthErrorResponse: the endpoint answered an RFC 6749 §5.2 error.
        ProviderUnavailableError: network failure, 5xx, or a non-JSON answer.
    """
    body = dict(form)
    headers = auth.apply(body)
    request = client.build_request("POST", url, data=body, headers=headers)
    return read_json(send(client, request, what), what)
