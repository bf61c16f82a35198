"""Cheap witnesses before the solver: concrete requests built from the policy's own literals
(its accounts, ARNs, actions, condition values, the first address of each CIDR), tried with
the engine. Most open policies are open to one of them, and a request the engine allows is a
finding however it was found; the solver is asked only about the caller shapes no guess
reached (and always for "no external access")."""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import Iterator

from broker.analyzer.real_names import expand_action
from broker.analyzer.targets import Target, Zone, outside_names
from broker.policy import Request
from broker.policy.evaluation import CompiledPolicySet

__all__ = ["guesses"]

_LIMIT = 3000
_PRINCIPAL_KEYS = ("aws:principalarn", "aws:principalaccount", "aws:principalorgid")


def _concrete(pattern: str) -> str:
    return pattern.replace("*", "a").replace("?", "a")


def _callers(target: Target, zone: Zone) -> list[tuple[str, str, dict[str, str], str]]:
    """(principal ARN, account, caller keys, group) for outside callers the policy names."""
    accounts = {"999999999999"}
    arns: set[str] = set()
    for statement in target.policy.statements:
        spec = statement.principal
        if spec is not None:
            accounts |= spec.accounts
            arns |= spec.arns
        for test in statement.conditions:
            if test.key == "aws:principalaccount":
                accounts |= {v for v in test.values if v.isdigit() and len(v) == 12}
    out = []
    for arn in sorted(arns):
        parts = arn.split(":", 5)
        role = arn
        if parts[2] == "sts" and parts[5].startswith("assumed-role/"):
            role = f"arn:aws:iam::{parts[4]}:role/{parts[5].split('/')[1]}"
        out.append((arn, parts[4], {"aws:principalarn": role, "aws:principalaccount": parts[4]}))
    for account in sorted(accounts):
        role = f"arn:aws:iam::{account}:role/a"
        for arn, principal_arn in (
            (f"arn:aws:iam::{account}:root", f"arn:aws:iam::{account}:root"),
            (role, role),
            (f"arn:aws:sts::{account}:assumed-role/a/a", role),
            (f"arn:aws:iam::{account}:user/a", f"arn:aws:iam::{account}:user/a"),
        ):
            keys = {"aws:principalarn": principal_arn, "aws:principalaccount": account}
            out.append((arn, account, keys))
    callers = [(a, acct, keys, "iam") for a, acct, keys in out if acct not in zone.accounts]
    callers += [(name, "", {}, f"external:{name}") for name in outside_names(target, zone)]
    callers.append(("anonymous", "", {}, "anonymous:"))
    return callers


def _values(target: Target, zone: Zone) -> dict[str, list[str | None]]:
    """Candidate values per condition key: absent, and each literal (wildcards filled)."""
    values: dict[str, list[str | None]] = {}
    for statement in target.policy.statements:
        for test in statement.conditions:
            if test.key in _PRINCIPAL_KEYS[:2]:
                continue
            options = values.setdefault(test.key, [None])
            for value in test.values:
                if test.base in ("IpAddress", "NotIpAddress"):
                    network = ipaddress.ip_network(value.strip(), strict=False)
                    candidate = str(network.network_address)
                else:
                    candidate = _concrete(value)
                if candidate not in options and candidate != zone.org_id:
                    options.append(candidate)
    if "aws:principalorgid" in values:
        values["aws:principalorgid"].append("o-outside")
    for key, options in values.items():
        if key == "aws:sourceip":
            options += ["192.0.2.1", "2001:db8::1"]
    return values


def guesses(
    target: Target, zone: Zone, policies: CompiledPolicySet
) -> Iterator[tuple[str, Request]]:
    """(group, request) for the first allowed guess of each caller group."""
    actions = sorted(
        {
            (expand_action(a) or [_concrete(a)])[0]  # a real action the pattern covers
            for s in target.policy.statements
            if s.effect == "Allow" and not s.not_action
            for a in s.action_values
            if a != "*"
        }
        | {"sts:AssumeRole" if target.kind == "trust" else "s3:GetObject", "zz:Zz"}
    )
    resources = [target.resource] + ([target.resource + "/a"] if target.kind == "resource" else [])
    values = _values(target, zone)
    keys = sorted(values)
    found: set[str] = set()
    tried = 0
    for arn, account, caller_keys, group in _callers(target, zone):
        if group in found:
            continue
        combos = itertools.product(actions, resources, *(values[k] for k in keys))
        for action, resource, *chosen in combos:
            assert action is not None and resource is not None
            tried += 1
            if tried > _LIMIT:
                return
            context = dict(caller_keys)
            for key, value in zip(keys, chosen, strict=True):
                if value is not None and (key != "aws:principalorgid" or account):
                    context[key] = value
            request = Request(action, resource, arn, account, target.account, context)
            if policies.evaluate(request).allowed:
                found.add(group)
                yield group, request
                break
