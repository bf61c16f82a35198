"""A small fake OpenID provider for ``httpx.MockTransport``: real keys, real signatures.

It implements just enough of discovery, JWKS, the token endpoint (code + PKCE, refresh with
rotation, device code), userinfo and revocation for the client to be exercised end to end,
and lets a test bend any answer (wrong issuer, other audience, ``alg: none`` ...).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey, Key, OctKey, RSAKey

ISSUER = "https://idp.example.com"
CLIENT_ID = "broker-cli"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class PendingCode:
    nonce: str
    challenge: str
    redirect_uri: str
    user: str


@dataclass
class FakeIdP:
    issuer: str = ISSUER
    client_id: str = CLIENT_ID
    alg: str = "RS256"
    keys: list[Key] = field(default_factory=list)
    codes: dict[str, PendingCode] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)
    access_tokens: dict[str, str] = field(default_factory=dict)
    device_answers: list[str] = field(default_factory=list)
    device_polls: list[float] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    # Bends applied to every ID token the fake signs: claims overrides and header overrides.
    claim_overrides: dict[str, Any] = field(default_factory=dict)
    header_overrides: dict[str, Any] = field(default_factory=dict)
    discovery_overrides: dict[str, Any] = field(default_factory=dict)
    token_signer: Callable[[dict[str, Any], dict[str, Any]], str] | None = None
    refresh_error: tuple[int, str] | None = None
    userinfo: dict[str, Any] = field(default_factory=dict)
    clock: Callable[[], float] = time.time
    jwks_fetches: int = 0

    def __post_init__(self) -> None:
        if not self.keys:
            self.rotate()

    # -- keys --------------------------------------------------------------------------------

    def rotate(self) -> Key:
        key: Key
        if self.alg.startswith("ES"):
            key = ECKey.generate_key("P-256", auto_kid=True)
        else:
            key = RSAKey.generate_key(2048, auto_kid=True)
        self.keys.insert(0, key)
        return key

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.as_dict(private=False) for k in self.keys]}

    def sign(self, claims: dict[str, Any]) -> str:
        header = {"alg": self.alg, "kid": self.keys[0].kid, "typ": "JWT"}
        header.update(self.header_overrides)
        if self.token_signer is not None:
            return self.token_signer(header, claims)
        return jwt.encode(header, claims, self.keys[0], algorithms=[self.alg])

    def id_token(self, user: str, nonce: str | None) -> str:
        now = int(self.clock())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": f"sub-{user}",
            "aud": self.client_id,
            "exp": now + 3600,
            "iat": now,
            "auth_time": now,
            "email": f"{user}@example.com",
            "amr": ["pwd", "mfa"],
        }
        if nonce is not None:
            claims["nonce"] = nonce
        claims.update(self.claim_overrides)
        return self.sign({k: v for k, v in claims.items() if v is not None})

    # -- the browser's part --------------------------------------------------------------------

    def approve(self, authorize_url: str, user: str = "alice") -> str:
        """Play the login page: return the redirect URL carrying a fresh code."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
        assert query["response_type"] == "code"
        assert query["code_challenge_method"] == "S256"
        code = secrets.token_urlsafe(16)
        self.codes[code] = PendingCode(
            query["nonce"], query["code_challenge"], query["redirect_uri"], user
        )
        return f"{query['redirect_uri']}?code={code}&state={query['state']}"

    # -- the transport -------------------------------------------------------------------------

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path == "/.well-known/openid-configuration":
            return httpx.Response(200, json=self.discovery())
        if path == "/jwks":
            self.jwks_fetches += 1
            return httpx.Response(200, json=self.jwks())
        if path == "/token":
            return self.token(dict(parse_qs(request.content.decode())))
        if path == "/device":
            return httpx.Response(
                200,
                json={
                    "device_code": "dev-code",
                    "user_code": "WDJB-MJHT",
                    "verification_uri": f"{self.issuer}/activate",
                    "expires_in": 600,
                    "interval": 5,
                },
            )
        if path == "/userinfo":
            bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
            user = self.access_tokens.get(bearer)
            if user is None:
                return self.error(401, "invalid_token")
            return httpx.Response(200, json={"sub": f"sub-{user}", **self.userinfo})
        if path == "/revoke":
            form = parse_qs(request.content.decode())
            self.refresh_tokens.pop(form["token"][0], None)
            return httpx.Response(200)
        return httpx.Response(404)

    def discovery(self) -> dict[str, Any]:
        document = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "device_authorization_endpoint": f"{self.issuer}/device",
            "revocation_endpoint": f"{self.issuer}/revoke",
            "code_challenge_methods_supported": ["S256"],
        }
        document.update(self.discovery_overrides)
        return {k: v for k, v in document.items() if v is not None}

    def error(self, status: int, code: str) -> httpx.Response:
        return httpx.Response(status, json={"error": code})

    def tokens(self, user: str, nonce: str | None) -> httpx.Response:
        refresh, access = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        self.refresh_tokens[refresh] = user
        self.access_tokens[access] = user
        return httpx.Response(
            200,
            json={
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": 3600,
                "refresh_token": refresh,
                "id_token": self.id_token(user, nonce),
            },
        )

    def token(self, form: dict[str, list[str]]) -> httpx.Response:
        grant = form["grant_type"][0]
        if form.get("client_id") != [self.client_id]:
            return self.error(401, "invalid_client")
        if grant == "authorization_code":
            pending = self.codes.pop(form["code"][0], None)
            if pending is None or pending.redirect_uri != form["redirect_uri"][0]:
                return self.error(400, "invalid_grant")
            verifier = form["code_verifier"][0]
            if b64(hashlib.sha256(verifier.encode()).digest()) != pending.challenge:
                return self.error(400, "invalid_grant")
            return self.tokens(pending.user, pending.nonce)
        if grant == "refresh_token":
            if self.refresh_error is not None:
                return self.error(*self.refresh_error)
            user = self.refresh_tokens.pop(form["refresh_token"][0], None)
            if user is None:
                return self.error(400, "invalid_grant")
            return self.tokens(user, None)
        if grant == "urn:ietf:params:oauth:grant-type:device_code":
            self.device_polls.append(self.clock())
            answer = self.device_answers.pop(0) if self.device_answers else "ok"
            if answer == "down":  # the network, not the IdP, answers this poll
                raise httpx.ConnectError("connection refused")
            if answer != "ok":
                return self.error(400, answer)
            return self.tokens("bob", None)
        return self.error(400, "unsupported_grant_type")


def hs256_with_public_key(idp: FakeIdP) -> Callable[[dict[str, Any], dict[str, Any]], str]:
    """The algorithm-confusion forgery: HMAC keyed with the IdP's published public key."""
    public_pem = idp.keys[0].as_pem(private=False)

    def sign(header: dict[str, Any], claims: dict[str, Any]) -> str:
        header = {**header, "alg": "HS256"}
        signing_input = (
            b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
        ).encode()
        import hmac as _hmac

        mac = _hmac.new(public_pem, signing_input, hashlib.sha256).digest()
        return signing_input.decode() + "." + b64(mac)

    return sign


def unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """``alg: none``: no signature at all."""
    header = {**header, "alg": "none"}
    return b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode()) + "."


def oct_key() -> OctKey:
    return OctKey.generate_key(256)
