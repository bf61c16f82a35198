"""The policy simulator's logic: build a request and policy set from what the person typed,
evaluate it with the engine, and say the result layer by layer in words (no Textual here).

ALLOW / DENY are always words, never only a colour (docs/tui.md §11).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from broker.errors import PolicyError, UsageError
from broker.policy import Decision, Policy, PolicyKind, PolicySet, Request, evaluate, parse_policy

__all__ = [
    "SimulationInput",
    "decision_word",
    "explain_lines",
    "merge_documents",
    "parse_context",
    "simulate",
]


@dataclass(frozen=True)
class SimulationInput:
    """What the simulator form holds; policy fields are JSON text, empty when absent.

    ``scp`` holds one SCP per level (root, OU…, account), each a JSON document, separated
    by a line with ``---``. ``management_account``: SCPs do not apply (AWS's rule).
    """

    principal_arn: str
    action: str
    resource: str
    identity: str = ""
    resource_policy: str = ""
    boundary: str = ""
    scp: str = ""
    session: str = ""
    context: str = ""
    management_account: bool = False


def parse_context(text: str) -> dict[str, str | list[str]]:
    """``key=value`` per line; a key given twice becomes a multi-valued key.

    Raises:
        UsageError: a line without ``=`` (the message names the line).
    """
    out: dict[str, str | list[str]] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"context line {number}: write it as key=value, got {line!r}")
        key, value = key.strip(), value.strip()
        previous = out.get(key)
        if previous is None:
            out[key] = value
        elif isinstance(previous, list):
            previous.append(value)
        else:
            out[key] = [previous, value]
    return out


def _account(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[0] == "arn" else ""


def simulate(form: SimulationInput) -> Decision:
    """Evaluate ``form``; returns the engine's ``Decision``.

    Raises:
        UsageError: the principal is not an ARN with an account, or a field is empty.
        PolicyError: a policy document is malformed (every error is listed).
    """
    principal_account = _account(form.principal_arn.strip())
    if not principal_account:
        raise UsageError(
            "principal: give an ARN with an account, e.g. arn:aws:iam::111122223333:user/alice"
        )
    if not form.action.strip() or not form.resource.strip():
        raise UsageError(
            "action and resource are both needed, e.g. s3:GetObject on arn:aws:s3:::b/k"
        )

    def one(text: str, kind: PolicyKind, name: str) -> Policy | None:
        if not text.strip():
            return None
        try:
            return parse_policy(text, kind=kind, name=name)
        except json.JSONDecodeError as exc:
            raise PolicyError(f"{name}: not JSON ({exc.msg} at line {exc.lineno})") from None

    levels = [chunk for chunk in form.scp.split("\n---\n") if chunk.strip()]
    scps = [
        [p] for n, chunk in enumerate(levels, start=1) if (p := one(chunk, "scp", f"SCP level {n}"))
    ]
    identity = one(form.identity, "identity", "identity policy")
    resource = one(form.resource_policy, "resource", "resource policy")
    policies = PolicySet(
        identity=[identity] if identity else [],
        resource=[resource] if resource else [],
        boundary=one(form.boundary, "boundary", "permissions boundary"),
        scp_hierarchy=scps,
        session=one(form.session, "session", "session policy"),
        management_account=form.management_account,
    )
    resource_account = _account(form.resource.strip()) or principal_account
    request = Request(
        action=form.action.strip(),
        resource=form.resource.strip(),
        principal_arn=form.principal_arn.strip(),
        principal_account=principal_account,
        resource_account=resource_account,
        context=parse_context(form.context),
    )
    return evaluate(policies, request, explain=True)


def decision_word(decision: str) -> str:
    """``ALLOW``, ``DENY (explicit)`` or ``DENY (implicit)``."""
    return {
        "Allow": "ALLOW",
        "ExplicitDeny": "DENY (explicit)",
        "ImplicitDeny": "DENY (implicit)",
    }.get(decision, decision.upper())


def explain_lines(explanation: list[dict[str, Any]]) -> list[str]:
    """The engine's explanation, one layer per block, in plain words."""
    lines: list[str] = []
    for layer in explanation:
        name = layer.get("layer", "?")
        if name == "decision":
            lines.append(
                f"=> {decision_word(str(layer.get('decision')))}: {layer.get('reason', '')}"
            )
            continue
        if not layer.get("applies", True):
            lines.append(f"{name}: not applicable ({layer.get('note', 'no policies')})")
            continue
        lines.append(f"{name}: {layer.get('result', '?')}")
        for item in layer.get("statements", []):
            sid = f" {item['sid']!r}" if item.get("sid") else ""
            policy = item.get("policy_name") or item.get("policy")
            where = f"policy {policy} statement {item.get('statement')}{sid}"
            state = (
                "applies" if item.get("applies") else f"does not apply: {item.get('reason', '')}"
            )
            lines.append(f"  {item.get('effect')} {where} {state}")
        if layer.get("note"):
            lines.append(f"  ({layer['note']})")
    return lines


def merge_documents(documents: list[Mapping[str, Any]]) -> str:
    """Several policies of one layer as one JSON document (their statements together).

    Within a layer AWS evaluates the union of every statement, so one merged document decides
    the same; the explanation then numbers statements across the merged documents.
    """
    statements: list[Any] = []
    for document in documents:
        found = document.get("Statement", [])
        statements.extend(found if isinstance(found, list) else [found])
    if not statements:
        return ""
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2)
