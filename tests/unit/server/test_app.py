"""``broker serve``'s ASGI app over HTTP (httpx's ASGI transport): the Query API route audits
before it answers and refuses when it cannot."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from broker.server.app import create_app
from broker.server.query_api import StsService
from tests.state_support import break_audit_chain, embedded_state
from tests.unit.server.test_query_api import signed


@pytest.fixture
def service(tmp_path) -> StsService:
    return StsService.over(embedded_state(tmp_path), data=tmp_path)


def post(service: StsService, params: dict[str, str]) -> httpx.Response:
    record, secret = service.keys.create("svc-app", "111122223333")
    request = signed(record.access_key_id, secret, params)

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(service), client=("192.0.2.7", 4321))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:1") as client:
            return await client.post("/", content=request.body, headers=dict(request.headers))

    return asyncio.run(asyncio.wait_for(send(), timeout=30))


def test_query_api_answers_xml_after_its_event_is_written(service) -> None:
    response = post(service, {"Action": "GetSessionToken"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    assert "<SessionToken>" in response.text
    events = list(service.audit.records())
    assert [e["eventName"] for e in events] == ["GetSessionToken"]
    assert events[0]["requestID"] == response.headers["x-amzn-requestid"]
    assert events[0]["sourceIPAddress"] == "192.0.2.7"
    token = response.text.split("<SessionToken>")[1].split("</SessionToken>")[0]
    assert token not in json.dumps(list(service.audit.records()), separators=(",", ":"))


def test_query_api_refuses_when_the_event_cannot_be_written(tmp_path, service) -> None:
    break_audit_chain(tmp_path)  # the chain cannot be appended to
    response = post(service, {"Action": "GetSessionToken"})
    assert response.status_code == 500
    assert "<Code>InternalFailure</Code>" in response.text
    assert "SecretAccessKey" not in response.text and "SessionToken>" not in response.text


def test_other_routes_are_still_served(service) -> None:
    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(service))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:1") as client:
            return await client.get("/health")

    response = asyncio.run(asyncio.wait_for(get(), timeout=30))
    assert response.status_code == 200 and response.json()["status"] == "ok"
