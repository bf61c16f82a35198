import json

import pytest

from broker.errors import PolicyError, UsageError
from broker.tui.simulation import (
    SimulationInput,
    decision_word,
    explain_lines,
    parse_context,
    simulate,
)

ALLOW_ALL_S3 = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}'
)
SCP_NO_DELETE = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"},
        ],
    }
)
SCP_ALLOW_ALL = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
)


def form(**overrides) -> SimulationInput:
    values = {
        "principal_arn": "arn:aws:iam::111122223333:role/Dev",
        "action": "s3:DeleteObject",
        "resource": "arn:aws:s3:::b/k",
        "identity": ALLOW_ALL_S3,
    } | overrides
    return SimulationInput(**values)


def test_parse_context_multi_values_and_errors() -> None:
    assert parse_context("a=1\n# note\n\nb = x\na=2") == {"a": ["1", "2"], "b": "x"}
    with pytest.raises(UsageError, match="context line 2"):
        parse_context("a=1\nnonsense")


def test_scp_levels_each_must_allow() -> None:
    assert simulate(form()).decision == "Allow"
    denied = simulate(form(scp=f"{SCP_ALLOW_ALL}\n---\n{SCP_NO_DELETE}"))
    assert denied.decision == "ExplicitDeny"
    lines = explain_lines(denied.explanation)
    assert lines[-1].startswith("=> DENY (explicit):")


def test_bad_inputs_name_the_field() -> None:
    with pytest.raises(UsageError, match="principal"):
        simulate(form(principal_arn="bob"))
    with pytest.raises(UsageError, match="action and resource"):
        simulate(form(action=" "))
    with pytest.raises(PolicyError, match="permissions boundary"):
        simulate(form(boundary='{"Statement": 3}'))


def test_decision_words() -> None:
    assert [decision_word(d) for d in ("Allow", "ImplicitDeny", "ExplicitDeny")] == [
        "ALLOW",
        "DENY (implicit)",
        "DENY (explicit)",
    ]
