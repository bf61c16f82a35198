"""AuthnRequest (SAML Core §3.4.1) sent over the HTTP-Redirect binding (SAML Bindings §3.4).

Each request gets a fresh random ID recorded as pending; the response's InResponseTo must name
a pending ID, which is consumed on first use so a second response to it is refused.
"""

from __future__ import annotations

import base64
import secrets
import threading
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit, urlunsplit

from lxml import etree

from broker.tokens.saml.names import ASSERTION, BINDING_POST, PROTOCOL, q

__all__ = ["AuthnRequest", "PendingRequests", "build_authn_request", "redirect_url"]


@dataclass(frozen=True)
class AuthnRequest:
    """One request we sent: its ID, the RelayState that travels with it, and when it lapses."""

    id: str
    relay_state: str
    acs_url: str
    expires_at: datetime
    xml: bytes


def build_authn_request(
    *, sp_entity_id: str, sso_url: str, acs_url: str, now: datetime, lifetime: float
) -> AuthnRequest:
    """A fresh AuthnRequest asking for a POSTed response to ``acs_url``."""
    request_id = "_" + secrets.token_hex(20)  # an xs:ID must not start with a digit
    root = etree.Element(q(PROTOCOL, "AuthnRequest"), nsmap={"samlp": PROTOCOL, "saml": ASSERTION})
    root.set("ID", request_id)
    root.set("Version", "2.0")
    root.set("IssueInstant", now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    root.set("Destination", sso_url)
    root.set("AssertionConsumerServiceURL", acs_url)
    root.set("ProtocolBinding", BINDING_POST)
    etree.SubElement(root, q(ASSERTION, "Issuer")).text = sp_entity_id
    policy = etree.SubElement(root, q(PROTOCOL, "NameIDPolicy"))
    policy.set("AllowCreate", "true")
    return AuthnRequest(
        id=request_id,
        relay_state=secrets.token_urlsafe(24),
        acs_url=acs_url,
        expires_at=now + timedelta(seconds=lifetime),
        xml=etree.tostring(root),
    )


def redirect_url(sso_url: str, request: AuthnRequest) -> str:
    """``sso_url`` with ``SAMLRequest`` (raw DEFLATE, base64) and ``RelayState`` appended."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw DEFLATE, no zlib header
    deflated = compressor.compress(request.xml) + compressor.flush()
    encoded = base64.b64encode(deflated).decode("ascii")
    query = urlencode({"SAMLRequest": encoded, "RelayState": request.relay_state})
    parts = urlsplit(sso_url)
    joined = f"{parts.query}&{query}" if parts.query else query
    return urlunsplit((parts.scheme, parts.netloc, parts.path, joined, ""))


class PendingRequests:
    """Requests awaiting a response, each answerable once (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, AuthnRequest] = {}

    def add(self, request: AuthnRequest) -> None:
        with self._lock:
            self._pending[request.id] = request

    def consume(self, request_id: str, now: datetime) -> AuthnRequest | None:
        """The pending request ``request_id`` (removed), or None if unknown, used or lapsed."""
        with self._lock:
            request = self._pending.pop(request_id, None)
        if request is None or now >= request.expires_at:
            return None
        return request

    def discard(self, request_id: str) -> None:
        with self._lock:
            self._pending.pop(request_id, None)
