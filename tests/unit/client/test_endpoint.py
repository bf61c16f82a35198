"""``serve-credentials``: botocore's own container and IMDS clients use it; attacks fail."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from broker.client.endpoint import CredentialsServer, start_server
from broker.errors import ServerError, StsError
from broker.minters.base import Credentials


def _credentials() -> Credentials:
    return Credentials(
        access_key_id="BKIASERVED0000000001",
        secret_access_key="s" * 40,
        session_token="served-token",
        expiration=(datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0),
    )


def _fetch(name: str) -> Credentials:
    if name == "broken":
        raise StsError("AccessDenied: not allowed", code="AccessDenied")
    return _credentials()


@pytest.fixture
def container() -> Iterator[CredentialsServer]:
    server = start_server(["dev", "broken"], _fetch)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def imds() -> Iterator[CredentialsServer]:
    server = start_server(["dev"], _fetch, imds=True)
    yield server
    server.shutdown()
    server.server_close()


def _request(
    server: CredentialsServer, method: str, path: str, headers: dict[str, str]
) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
    try:
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def test_botocore_container_provider_gets_credentials(container: CredentialsServer) -> None:
    from botocore.credentials import ContainerProvider

    env = {
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": container.container_uri("dev"),
        "AWS_CONTAINER_AUTHORIZATION_TOKEN": container.token,
    }
    creds = ContainerProvider(environ=env).load().get_frozen_credentials()
    assert creds.access_key == "BKIASERVED0000000001"
    assert creds.token == "served-token"


def test_botocore_imds_fetcher_gets_credentials(imds: CredentialsServer) -> None:
    from botocore.utils import InstanceMetadataFetcher

    fetcher = InstanceMetadataFetcher(
        timeout=5, num_attempts=1, base_url=imds.base_url + "/", config={}
    )
    creds = fetcher.retrieve_iam_role_credentials()
    assert creds["role_name"] == "dev"
    assert creds["access_key"] == "BKIASERVED0000000001"
    assert creds["token"] == "served-token"


def test_container_endpoint_refuses_wrong_token_wrong_host_unknown_profile(
    container: CredentialsServer,
) -> None:
    port = container.server_address[1]
    good = {"Authorization": container.token, "Host": f"127.0.0.1:{port}"}
    assert _request(container, "GET", "/creds/dev", good)[0] == 200
    assert _request(container, "GET", "/creds/dev", {**good, "Authorization": "nope"})[0] == 401
    assert _request(container, "GET", "/creds/dev", {"Host": f"127.0.0.1:{port}"})[0] == 401
    rebinding = {**good, "Host": f"evil.example.com:{port}"}
    assert _request(container, "GET", "/creds/dev", rebinding)[0] == 403
    assert _request(container, "GET", "/creds/other", good)[0] == 404
    status, body = _request(container, "GET", "/creds/broken", good)
    assert status == 503 and "AccessDenied" in body and "s" * 40 not in body


def test_imds_requires_a_session_token_and_refuses_forwarded_token_requests(
    imds: CredentialsServer,
) -> None:
    host = {"Host": f"127.0.0.1:{imds.server_address[1]}"}
    path = "/latest/meta-data/iam/security-credentials/dev"
    assert _request(imds, "GET", path, host)[0] == 401
    ttl = {**host, "X-aws-ec2-metadata-token-ttl-seconds": "60"}
    forwarded = {**ttl, "X-Forwarded-For": "203.0.113.9"}
    assert _request(imds, "PUT", "/latest/api/token", forwarded)[0] == 403
    assert (
        _request(
            imds, "PUT", "/latest/api/token", {**ttl, "X-aws-ec2-metadata-token-ttl-seconds": "0"}
        )[0]
        == 400
    )
    status, token = _request(imds, "PUT", "/latest/api/token", ttl)
    assert status == 200 and token
    authed = {**host, "X-aws-ec2-metadata-token": token}
    assert _request(imds, "GET", path, authed)[0] == 200
    assert _request(imds, "GET", path, {**host, "X-aws-ec2-metadata-token": token + "x"})[0] == 401


def test_listens_on_loopback_only_with_a_random_port_and_token() -> None:
    first = start_server(["dev"], _fetch)
    second = start_server(["dev"], _fetch)
    try:
        assert first.server_address[0] == "127.0.0.1"
        assert first.server_address[1] != second.server_address[1]
        assert first.token != second.token and len(first.token) >= 40
    finally:
        for server in (first, second):
            server.shutdown()
            server.server_close()


def test_imds_serves_exactly_one_profile() -> None:
    with pytest.raises(ServerError, match="exactly one profile"):
        start_server(["a", "b"], _fetch, imds=True)


def test_imds_is_refused_where_the_peer_cannot_be_checked(monkeypatch) -> None:
    import broker.client.peer_owner as peer_owner

    monkeypatch.setattr(peer_owner.sys, "platform", "darwin")
    with pytest.raises(ServerError, match="--imds needs Linux"):
        start_server(["dev"], _fetch, imds=True)


def test_imds_refuses_a_connection_owned_by_another_uid(imds: CredentialsServer) -> None:
    imds.owner_uid = imds.owner_uid + 1  # as if the server ran as another user than ours
    status, body = _request(
        imds, "PUT", "/latest/api/token", {"X-aws-ec2-metadata-token-ttl-seconds": "60"}
    )
    assert status == 403 and "only the user who started it" in body
