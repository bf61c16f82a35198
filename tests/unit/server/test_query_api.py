"""The STS service core: authenticate, act, audit before answering, fail closed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from broker.server.query_api import StsService
from broker.server.sigv4 import SignedRequest
from broker.sts.revocation import Revocation
from broker.sts.session_token import verify_session
from tests.state_support import break_audit_chain, embedded_state


@pytest.fixture
def service(tmp_path) -> StsService:
    return StsService.over(embedded_state(tmp_path), data=tmp_path)


@pytest.fixture
def key(service):
    record, secret = service.keys.create("svc-app", "111122223333")
    return record.access_key_id, secret


def signed(key_id, secret, params, token=None) -> SignedRequest:
    body = urlencode({"Version": "2011-06-15", **params}).encode()
    request = AWSRequest(method="POST", url="http://127.0.0.1:1/", data=body)
    SigV4Auth(Credentials(key_id, secret, token), "sts", "us-east-1").add_auth(request)
    headers = {k.lower(): v for k, v in request.prepare().headers.items()}
    headers["host"] = "127.0.0.1:1"
    return SignedRequest("POST", "/", "", headers, body)


def call(service, key_id, secret, params, token=None):
    return service.handle(
        signed(key_id, secret, params, token), source_ip="127.0.0.1", user_agent="t"
    )


def credentials_of(body: str) -> dict[str, str]:
    import re

    return {
        name: re.search(f"<{name}>([^<]+)</{name}>", body)[1]
        for name in ("AccessKeyId", "SecretAccessKey", "SessionToken")
    }


def test_answer_is_audited_before_it_leaves(service, key) -> None:
    answer = call(service, *key, {"Action": "GetCallerIdentity"})
    assert (
        answer.status == 200 and "<Arn>arn:aws:iam::111122223333:user/svc-app</Arn>" in answer.body
    )
    events = list(service.audit.records())
    assert [e["eventName"] for e in events] == ["GetCallerIdentity"]
    assert events[0]["requestID"] == answer.request_id
    assert events[0]["sourceIPAddress"] == "127.0.0.1"


def test_unwritable_audit_log_refuses_and_hands_out_nothing(tmp_path, service, key) -> None:
    break_audit_chain(tmp_path)  # the chain cannot be appended to
    answer = call(service, *key, {"Action": "GetSessionToken"})
    assert answer.status == 500
    assert "<Code>InternalFailure</Code>" in answer.body
    assert "SecretAccessKey" not in answer.body and "SessionToken>" not in answer.body


def test_denied_calls_are_audited_with_their_code(service, key) -> None:
    answer = call(service, key[0], "B" * 40, {"Action": "GetCallerIdentity"})
    assert answer.status == 403 and "<Code>SignatureDoesNotMatch</Code>" in answer.body
    event = next(service.audit.records())
    assert event["errorCode"] == "SignatureDoesNotMatch"
    assert event["userIdentity"]["accessKeyId"] == key[0]


@pytest.mark.parametrize(
    "params",
    [{"Action": "DeleteEverything"}, {"Action": "GetCallerIdentity", "Version": "2099-01-01"}],
)
def test_unknown_action_or_version_is_invalid_action(service, key, params) -> None:
    answer = call(service, *key, params)
    assert answer.status == 400 and "<Code>InvalidAction</Code>" in answer.body


def test_revocation_by_user_cutoff_applies_to_older_sessions_only(service, key) -> None:
    body = call(service, *key, {"Action": "GetSessionToken"}).body
    minted = credentials_of(body)
    claims, _ = verify_session(service.ring, minted["SessionToken"], minted["AccessKeyId"])
    service.revocations.add(Revocation("user", "svc-other", datetime.now(UTC) + timedelta(1)))
    again = call(
        service,
        minted["AccessKeyId"],
        minted["SecretAccessKey"],
        {"Action": "GetCallerIdentity"},
        minted["SessionToken"],
    )
    assert again.status == 200
    service.revocations.add(Revocation("user", "svc-app", claims.issued_at - timedelta(seconds=1)))
    assert (
        call(
            service,
            minted["AccessKeyId"],
            minted["SecretAccessKey"],
            {"Action": "GetCallerIdentity"},
            minted["SessionToken"],
        ).status
        == 200
    )
    service.revocations.add(Revocation("user", "svc-app", claims.issued_at + timedelta(seconds=1)))
    refused = call(
        service,
        minted["AccessKeyId"],
        minted["SecretAccessKey"],
        {"Action": "GetCallerIdentity"},
        minted["SessionToken"],
    )
    assert refused.status == 403 and "<Code>AccessDenied</Code>" in refused.body


def test_long_term_key_with_a_security_token_is_refused(service, key) -> None:
    answer = call(service, *key, {"Action": "GetCallerIdentity"}, token="x.y.z")
    assert "<Code>InvalidClientTokenId</Code>" in answer.body


def test_xml_escapes_values(service, key) -> None:
    answer = call(service, *key, {"Action": "GetFederationToken", "Name": "a<b"})
    assert "<Code>ValidationError</Code>" in answer.body
    assert "a&lt;b" in answer.body and "a<b" not in answer.body


def test_a_broken_state_fails_closed_as_internal_failure(service, key, tmp_path) -> None:
    from broker.errors import ConfigError
    from broker.storage.sqlite_db import SqliteDatabase
    from broker.storage.url import embedded_url

    # The key records' database cannot be opened (readable by others: refused, not trusted).
    unreadable = SqliteDatabase(embedded_url(tmp_path / "other"))
    with unreadable.transaction():
        pass
    (tmp_path / "other" / "broker.db").chmod(0o644)
    service.keys._records._db = SqliteDatabase(embedded_url(tmp_path / "other"))
    with pytest.raises(ConfigError):
        service.keys._records._db.now() and service.keys.list()
    answer = call(service, *key, {"Action": "GetCallerIdentity"})
    assert answer.status == 500 and "<Code>InternalFailure</Code>" in answer.body
    assert "<Type>Receiver</Type>" in answer.body
    assert list(service.audit.records())[-1]["errorCode"] == "InternalFailure"


def test_a_request_past_its_deadline_mints_nothing(service, key) -> None:
    """Queued past its deadline (a stalled database, an overloaded replica): refused as a
    retryable ServiceUnavailable before any work, and no credentials in the answer."""
    import time

    decision = service.decide(
        signed(*key, {"Action": "GetSessionToken"}),
        source_ip="127.0.0.1",
        user_agent="t",
        deadline=time.monotonic() - 0.001,
    )
    assert decision.code == "ServiceUnavailable"
    assert "SecretAccessKey" not in decision.body and "SessionToken>" not in decision.body
    answer = service.finish(decision)
    assert answer.status == 503


def test_an_audit_failure_does_not_tell_the_caller_where_the_log_is(tmp_path, service, key) -> None:
    break_audit_chain(tmp_path)  # the chain cannot be appended to
    answer = call(service, *key, {"Action": "GetCallerIdentity"})
    assert answer.status == 500
    assert str(tmp_path) not in answer.body and "audit.jsonl" not in answer.body
