"""A SAML assertion accepted by one replica is refused as a replay by another.

Each replica validates with the real SAML response validator and its own ``SqlReplayCache``
(its own connection pool) on the one shared PostgreSQL database. The response is IdP-initiated,
where no pending request ties it to a replica and the shared cache is the only defence.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from broker.errors import AuthenticationError
from broker.storage.database import Database, open_database
from broker.storage.migrations import upgrade
from broker.storage.replay import SqlReplayCache
from broker.tokens.saml.response import ResponsePolicy, validate_response
from providers.saml.redirect_binding import PendingRequests
from tests.saml_forge import Spec, build_response, encode, make_keypair

pytestmark = pytest.mark.integration

ACS = "http://127.0.0.1:8123/saml/acs"
SP = "urn:example:broker"
IDP = "https://idp.example.com/metadata"


@pytest.fixture
def two_replicas(fresh_database: str) -> Iterator[tuple[Database, Database]]:
    first, second = open_database(fresh_database), open_database(fresh_database)
    upgrade(first)
    try:
        yield first, second
    finally:
        first.close()
        second.close()


def test_assertion_replayed_to_a_second_replica_is_refused(
    two_replicas: tuple[Database, Database],
) -> None:
    keys = make_keypair()
    policy = ResponsePolicy(
        idp_entity_id=IDP,
        certificates=(keys.cert,),
        sp_entity_id=SP,
        acs_url=ACS,
        clock_skew=180,
        allow_idp_initiated=True,
    )
    encoded = encode(build_response(Spec(idp=IDP, sp=SP, acs=ACS, in_response_to=None), keys))

    def post_to(replica: Database) -> str:
        facts = validate_response(
            encoded,
            policy,
            now=datetime.now(UTC),
            pending=PendingRequests(),
            replay_cache=SqlReplayCache(replica),
        )
        return facts.name_id

    assert post_to(two_replicas[0]) == "alice@example.com"
    with pytest.raises(AuthenticationError, match="replay"):
        post_to(two_replicas[1])
