"""The explanation: per layer, what applied, what did not and why, and the final reason."""

from __future__ import annotations

from broker.policy import PolicySet
from tests.unit.policy.evaluation_fixtures import (
    FED_USER,
    IDENTITY,
    SCP_ALL,
    SCP_DENY,
    SCP_EC2,
    resource_policy,
)
from tests.unit.policy.helpers import (
    ALICE,
    allow,
    deny,
    policy,
    request,
)


def test_explanation_names_the_failed_condition_and_reason() -> None:
    from broker.policy import evaluate

    p = policy(allow(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))
    decision = evaluate(PolicySet(identity=[p]), request(context={"aws:SourceIp": "192.0.2.1"}))
    assert decision.decision == "ImplicitDeny"
    identity = next(e for e in decision.explanation if e["layer"] == "identity")
    (statement,) = identity["statements"]
    assert statement["applies"] is False
    assert "IpAddress aws:SourceIp" in statement["reason"] and "192.0.2.1" in statement["reason"]
    final = decision.explanation[-1]
    assert final["layer"] == "decision" and "no identity-based policy" in final["reason"]


def test_explanation_lists_every_layer_in_order() -> None:
    from broker.policy import evaluate

    sets = PolicySet(
        identity=[IDENTITY],
        resource=[resource_policy({"AWS": ALICE})],
        boundary=policy(allow(), kind="boundary"),
        scp_hierarchy=[[SCP_ALL], [SCP_ALL]],
    )
    decision = evaluate(sets, request())
    layers = [e["layer"] for e in decision.explanation]
    assert layers == ["scp[0]", "scp[1]", "resource", "identity", "boundary", "session", "decision"]
    assert decision.allowed and decision.explanation[-1]["decision"] == "Allow"


def test_explicit_deny_explanation_points_at_the_statement() -> None:
    from broker.policy import evaluate

    denier = policy(deny(Sid="NoReports"))
    decision = evaluate(PolicySet(identity=[IDENTITY, denier]), request())
    identity = next(e for e in decision.explanation if e["layer"] == "identity")
    assert identity["result"] == "ExplicitDeny"
    assert {"policy": 1, "sid": "NoReports", "applies": True}.items() <= next(
        s for s in identity["statements"] if s["effect"] == "Deny"
    ).items()


def test_explanation_after_an_scp_implicit_deny_still_shows_the_other_layers() -> None:
    from broker.policy import evaluate

    decision = evaluate(PolicySet(identity=[IDENTITY], scp_hierarchy=[[SCP_EC2]]), request())
    assert decision.decision == "ImplicitDeny"
    by_layer = {e["layer"]: e for e in decision.explanation}
    assert by_layer["scp[0]"]["result"] == "NoMatch"
    assert by_layer["identity"]["result"] == "Allow"
    assert "scp[0]: no SCP at this level allows" in by_layer["decision"]["reason"]


def test_explanation_says_why_a_layer_does_not_apply() -> None:
    from broker.policy import evaluate

    sets = PolicySet(identity=[IDENTITY], scp_hierarchy=[[SCP_DENY]], management_account=True)
    by_layer = {e["layer"]: e for e in evaluate(sets, request()).explanation}
    assert by_layer["scp[0]"]["applies"] is False
    assert "management account" in by_layer["scp[0]"]["note"]
    federated = evaluate(PolicySet(identity=[IDENTITY]), request(principal=FED_USER))
    fed = {e["layer"]: e for e in federated.explanation}
    assert "federated user without a session policy" in fed["session"]["note"]
