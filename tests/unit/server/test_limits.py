"""Request bounds: parameter count and AWS's per-parameter lengths; what an audit keeps."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from broker.errors import StsError
from broker.server.limits import (
    MAX_BODY_BYTES,
    MAX_PARAMETERS,
    audited_parameters,
    parse_parameters,
)


def code_of(query: str = "", body: bytes = b"") -> str:
    with pytest.raises(StsError) as err:
        parse_parameters(query, body)
    return err.value.code or ""


@pytest.mark.parametrize(
    ("name", "longest"),
    [
        ("RoleSessionName", 64),
        ("ExternalId", 1224),
        ("Policy", 2048),
        ("Tags.member.3.Key", 128),
        ("Tags.member.3.Value", 256),
        ("PolicyArns.member.10.arn", 2048),
        ("TransitiveTagKeys.member.7", 128),
        ("SAMLAssertion", 100_000),
        ("SomethingElse", 2048),
    ],
)
def test_each_parameter_is_held_to_its_longest_length(name, longest) -> None:
    assert parse_parameters("", urlencode({name: "v" * longest}).encode())[name] == "v" * longest
    with pytest.raises(StsError) as err:
        parse_parameters("", urlencode({name: "v" * (longest + 1)}).encode())
    assert err.value.code == "ValidationError" and str(longest) in str(err.value)
    assert "vvvv" not in str(err.value)


def test_a_long_parameter_name_is_refused_without_echoing_it() -> None:
    with pytest.raises(StsError) as err:
        parse_parameters("", urlencode({"N" * 300: "v"}).encode())
    assert err.value.code == "ValidationError" and "NNNN" not in str(err.value)


def test_too_many_parameters_or_bytes_are_too_large() -> None:
    many = urlencode({f"P{i}": "v" for i in range(MAX_PARAMETERS + 1)})
    assert code_of(body=many.encode()) == "RequestEntityTooLarge"
    half = MAX_PARAMETERS // 2 + 1
    assert (
        code_of(
            query=urlencode({f"Q{i}": "v" for i in range(half)}),
            body=urlencode({f"B{i}": "v" for i in range(half)}).encode(),
        )
        == "RequestEntityTooLarge"
    )
    assert code_of(body=b"x" * (MAX_BODY_BYTES + 1)) == "RequestEntityTooLarge"


def test_the_body_wins_over_the_query_string() -> None:
    assert parse_parameters("Action=A&Version=1", b"Action=B")["Action"] == "B"


def test_an_authenticated_call_records_the_sts_parameters_it_sent() -> None:
    params = {
        "Action": "AssumeRole",
        "Version": "2011-06-15",
        "RoleArn": "arn:aws:iam::111122223333:role/Deploy",
        "Tags.member.1.Key": "team",
        "MadeUp": "dropped",
    }
    assert audited_parameters(params, authenticated=True) == {
        "roleArn": "arn:aws:iam::111122223333:role/Deploy",
        "tags.member.1.Key": "team",
    }


def test_an_anonymous_failure_records_only_short_scalar_sts_fields() -> None:
    params = {
        "Action": "AssumeRole",
        "RoleArn": "r" * 2048,
        "Tags.member.1.Key": "team",
        "MadeUp": "dropped",
    }
    assert audited_parameters(params, authenticated=False) == {"roleArn": "r" * 256}
