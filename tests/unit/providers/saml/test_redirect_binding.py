"""AuthnRequest over HTTP-Redirect: raw DEFLATE + base64, fresh IDs, one use per request."""

from __future__ import annotations

import base64
import zlib
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from lxml import etree

from providers.saml.redirect_binding import PendingRequests, build_authn_request, redirect_url

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _request(**kw: object):
    args = dict(
        sp_entity_id="urn:example:broker",
        sso_url="https://idp.example.com/sso?tenant=example",
        acs_url="http://127.0.0.1:5555/saml/acs",
        now=NOW,
        lifetime=60,
    )
    args.update(kw)
    return build_authn_request(**args)  # type: ignore[arg-type]


def test_redirect_url_carries_a_deflated_request_and_keeps_existing_query() -> None:
    request = _request()
    url = redirect_url("https://idp.example.com/sso?tenant=example", request)
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert query["tenant"] == ["example"]
    assert query["RelayState"] == [request.relay_state]
    xml = zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -15)
    root = etree.fromstring(xml)
    assert root.tag == "{urn:oasis:names:tc:SAML:2.0:protocol}AuthnRequest"
    assert root.get("ID") == request.id and not request.id[0].isdigit()
    assert root.get("AssertionConsumerServiceURL") == "http://127.0.0.1:5555/saml/acs"
    assert root.get("Destination") == "https://idp.example.com/sso?tenant=example"
    assert root.get("IssueInstant") == "2026-01-01T00:00:00Z"
    issuer = root.find("{urn:oasis:names:tc:SAML:2.0:assertion}Issuer")
    assert issuer is not None and issuer.text == "urn:example:broker"


def test_each_request_has_fresh_id_and_relay_state() -> None:
    first, second = _request(), _request()
    assert first.id != second.id
    assert first.relay_state != second.relay_state
    assert len(first.id) >= 32


def test_pending_request_consumed_once_and_lapses() -> None:
    pending = PendingRequests()
    request = _request()
    pending.add(request)
    assert pending.consume(request.id, NOW) == request
    assert pending.consume(request.id, NOW) is None
    late = _request()
    pending.add(late)
    assert pending.consume(late.id, NOW + timedelta(seconds=61)) is None
    assert pending.consume("_unknown", NOW) is None
