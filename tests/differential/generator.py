"""A seeded generator of well-formed IAM evaluation cases, written once and given to two
evaluators: ours (``broker policy simulate``'s case format) and the oracle
(``@cloud-copilot/iam-simulate``'s ``Simulation``).

Every case stays inside what both evaluators model the same way, so a disagreement is a finding:
real actions with ARNs of their resource type (the oracle checks them against AWS's service
reference), global condition keys only (the oracle drops the others per action), multi-valued
context only for keys AWS types as lists. Within that, it covers: every condition operator family,
``IfExists``, ``Null``, ``ForAnyValue``/``ForAllValues`` on present and missing keys, policy
variables with and without values and defaults (in Resource, NotResource and condition values),
Action/NotAction and Resource/NotResource, wildcards and letter case, permissions boundaries,
session policies, SCP and RCP hierarchies, same- and cross-account resource policies and role
trust policies.

Each case carries ``tags``: facts about it that a known divergence can be matched on (see
``divergences.toml``). A tag is set only when the case really exercises that construct.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Scenario", "generate", "to_oracle", "to_ours"]

HOME = "111111111111"
ANONYMOUS = "anonymous"
_KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER = "222222222222"
REGION = "us-east-1"

# Real actions, each with the ARN shape of its resource type (service authorization reference).
_TARGETS: list[tuple[str, list[str], str]] = [
    ("s3", ["GetObject", "PutObject", "DeleteObject"], "arn:aws:s3:::{bucket}/{path}"),
    ("s3", ["ListBucket"], "arn:aws:s3:::{bucket}"),
    (
        "sqs",
        ["SendMessage", "ReceiveMessage", "DeleteMessage"],
        "arn:aws:sqs:{region}:{acct}:{name}",
    ),
    (
        "dynamodb",
        ["GetItem", "PutItem", "DeleteItem"],
        "arn:aws:dynamodb:{region}:{acct}:table/{name}",
    ),
    (
        "secretsmanager",
        ["GetSecretValue", "DescribeSecret"],
        "arn:aws:secretsmanager:{region}:{acct}:secret:{name}-AbCdEf",
    ),
    ("sns", ["Publish", "Subscribe"], "arn:aws:sns:{region}:{acct}:{name}"),
]
_NAMES = ["alpha", "beta", "Alpha"]
_BUCKETS = ["bucket-a", "bucket-b"]
_PATHS = ["home/alice/notes.txt", "home/bob/x.csv", "public/readme", "Home/alice/a"]
_TEAMS = ["red", "blue", "Red"]
_USERS = ["alice", "bob"]

# Global condition keys (AWS's global condition context keys) by type.
_STRING_KEYS = ["aws:PrincipalTag/team", "aws:PrincipalTag/dept", "aws:username", "aws:userid"]
_ARN_KEYS = ["aws:PrincipalArn", "aws:SourceArn"]
_LIST_KEYS = ["aws:PrincipalOrgPaths", "aws:CalledVia"]
_LIST_VALUES = {
    "aws:PrincipalOrgPaths": ["o-a1/r-ab/ou-1/", "o-a1/r-ab/ou-2/", "o-a1/r-ab/"],
    "aws:CalledVia": ["athena.amazonaws.com", "cloudformation.amazonaws.com"],
}
_STRING_OPS = [
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
]
_NEGATED = {
    "StringNotEquals",
    "StringNotEqualsIgnoreCase",
    "StringNotLike",
    "NumericNotEquals",
    "DateNotEquals",
    "NotIpAddress",
    "ArnNotEquals",
    "ArnNotLike",
}


@dataclass
class Scenario:
    """One case in neutral form; ``to_ours`` and ``to_oracle`` write it for each evaluator."""

    seed: int
    principal: str
    action: str
    resource: str
    resource_account: str
    context: dict[str, Any]
    identity: list[dict[str, Any]]
    boundary: dict[str, Any] | None = None
    session: dict[str, Any] | None = None
    scps: list[list[dict[str, Any]]] = field(default_factory=list)
    rcps: list[list[dict[str, Any]]] = field(default_factory=list)
    resource_policy: dict[str, Any] | None = None
    resource_kind: str = "resource"
    tags: set[str] = field(default_factory=set)


class _Gen:
    def __init__(self, rng: random.Random) -> None:
        self.r = rng
        self.tags: set[str] = set()
        self.context: dict[str, Any] = {}

    def chance(self, p: float) -> bool:
        return self.r.random() < p

    def pick(self, items: list[Any]) -> Any:
        return items[self.r.randrange(len(items))]

    # --- the request -------------------------------------------------------------------------

    def target(self, account: str) -> tuple[str, str, str]:
        service, actions, shape = self.pick(_TARGETS)
        action = f"{service}:{self.pick(actions)}"
        arn = shape.format(
            bucket=self.pick(_BUCKETS),
            path=self.pick(_PATHS),
            region=REGION,
            acct=account,
            name=self.pick(_NAMES),
        )
        return service, action, arn

    def fill_context(self, principal: str) -> None:
        c = self.context
        for key in _STRING_KEYS:
            if self.chance(0.55):
                c[key] = self.pick(_TEAMS if "Tag" in key else _USERS)
        if principal != ANONYMOUS and self.chance(0.8):
            c["aws:PrincipalArn"] = _role_arn_of(principal)
        if self.chance(0.4):
            c["aws:SourceArn"] = f"arn:aws:sns:{REGION}:{self.pick([HOME, OTHER])}:topic-a"
        if self.chance(0.6):
            c["aws:SourceIp"] = self.pick(["10.0.0.5", "192.168.1.9", "203.0.113.7"])
        if self.chance(0.6):
            c["aws:SecureTransport"] = self.pick(["true", "false"])
        if self.chance(0.5):
            c["aws:MultiFactorAuthAge"] = self.pick(["30", "600", "7200"])
        if self.chance(0.5):
            c["aws:CurrentTime"] = self.pick(["2026-01-01T00:00:00Z", "2026-06-30T12:00:00Z"])
        for key in _LIST_KEYS:
            if self.chance(0.5):
                values = _LIST_VALUES[key]
                c[key] = self.r.sample(values, self.r.randint(0, len(values)))
                if not c[key]:
                    self.tags.add("empty-list")

    # --- policy pieces -----------------------------------------------------------------------

    def action_pattern(self, service: str, action: str) -> str:
        name = action.split(":", 1)[1]
        roll = self.r.random()
        if roll < 0.35:
            out = action
        elif roll < 0.5:
            out = f"{service}:*"
        elif roll < 0.6:
            out = f"{service}:{name[:3]}*"
        elif roll < 0.68:
            out = f"{service}:{name[0]}?{name[2:]}"
        elif roll < 0.76:
            out = "*"
        else:
            _, other, _ = self.target(HOME)
            out = other
        if self.chance(0.15):
            out = out.upper() if self.chance(0.5) else out.swapcase()
            self.tags.add("action-case")
        return out

    def resource_pattern(self, arn: str, effect: str, negated: bool) -> str:
        roll = self.r.random()
        if roll < 0.25:
            return arn
        if roll < 0.4:
            return "*"
        sep = "/" if "/" in arn else ":"
        head, _, last = arn.rpartition(sep)
        if roll < 0.55:
            return f"{head}{sep}*"
        if roll < 0.62:
            return arn[:-1] + "?"
        if roll < 0.7:
            # A short pattern ending in * ("Resource", wildcards in ARNs).
            parts = arn.split(":")
            self.tags.add("short-arn")
            return ":".join(parts[: self.r.randint(3, 5)]) + ":*"
        if roll < 0.85 and arn.startswith("arn:aws:s3:::"):
            bucket = arn.split(":::")[1].split("/")[0]
            var = self.variable(for_resource=True)
            if not var.endswith("'}") and var[2:-1] not in self.context:
                self.tags.add("var-absent-resource")
                if negated:
                    self.tags.add(f"var-absent-notresource-{effect.lower()}")
            return f"arn:aws:s3:::{bucket}/home/{var}/*"
        if roll < 0.92:
            self.tags.add("resource-case")
            return arn[: arn.rfind(sep) + 1] + last.swapcase()
        _, _, other = self.target(self.pick([HOME, OTHER]))
        return other

    def variable(self, *, for_resource: bool) -> str:
        key = self.pick(["aws:username", "aws:PrincipalTag/team", "aws:PrincipalTag/dept"])
        if self.chance(0.25):
            return "${" + key + ", '" + self.pick(["alice", "nobody", "red"]) + "'}"
        return "${" + key + "}"

    def condition(self) -> dict[str, dict[str, Any]]:
        block: dict[str, dict[str, Any]] = {}
        for _ in range(self.r.randint(1, 2)):
            operator, key, values = self.one_condition()
            block.setdefault(operator, {})[key] = values
        return block

    def one_condition(self) -> tuple[str, str, Any]:
        family = self.pick(
            ["string", "string", "string", "arn", "ip", "bool", "numeric", "date", "null", "set"]
        )
        if_exists = self.chance(0.25)
        suffix = "IfExists" if if_exists else ""
        if family == "string":
            op = self.pick(_STRING_OPS)
            key = self.pick(_STRING_KEYS)
            values = [
                self.pick(_TEAMS if "Tag" in key else _USERS) for _ in range(self.r.randint(1, 2))
            ]
            if op.endswith("Like") and self.chance(0.4):
                values[0] = values[0][:2] + "*"
            if self.chance(0.3):
                other = self.pick(
                    ["aws:PrincipalTag/team", "aws:PrincipalTag/dept", "aws:username"]
                )
                var = "${" + other + "}"
                if self.chance(0.3):
                    var = "${" + other + ", 'red'}"
                elif other not in self.context:
                    self.tags.add("var-absent-condition")
                    if op in _NEGATED:
                        self.tags.add("var-absent-negated-condition")
                values[0] = var
            self.missing(key, op, if_exists)
            return op + suffix, key, values if len(values) > 1 or self.chance(0.5) else values[0]
        if family == "arn":
            op = self.pick(["ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"])
            key = self.pick(_ARN_KEYS)
            account = self.pick([HOME, OTHER])
            if key == "aws:PrincipalArn":
                value = self.pick(
                    [
                        f"arn:aws:iam::{account}:role/*",
                        f"arn:aws:iam::{account}:role/dev",
                        "arn:aws:iam::*:role/d?v",
                    ]
                )
            else:
                value = self.pick(
                    [f"arn:aws:sns:{REGION}:{account}:*", f"arn:aws:sns:*:{account}:topic-a"]
                )
            if self.chance(0.1):
                value = "arn:aws:sns:*:*:*"
            self.missing(key, op, if_exists)
            return op + suffix, key, value
        if family == "ip":
            op = self.pick(["IpAddress", "NotIpAddress"])
            self.missing("aws:SourceIp", op, if_exists)
            return (
                op + suffix,
                "aws:SourceIp",
                self.pick(["10.0.0.0/8", ["192.168.1.0/24", "203.0.113.7/32"]]),
            )
        if family == "bool":
            key = self.pick(["aws:SecureTransport", "aws:MultiFactorAuthPresent"])
            self.missing(key, "Bool", if_exists)
            return "Bool" + suffix, key, self.pick(["true", "false", True])
        if family == "numeric":
            op = self.pick(
                [
                    "NumericEquals",
                    "NumericNotEquals",
                    "NumericLessThan",
                    "NumericLessThanEquals",
                    "NumericGreaterThan",
                    "NumericGreaterThanEquals",
                ]
            )
            self.missing("aws:MultiFactorAuthAge", op, if_exists)
            return op + suffix, "aws:MultiFactorAuthAge", self.pick(["600", 3600, ["30", "7200"]])
        if family == "date":
            op = self.pick(
                [
                    "DateEquals",
                    "DateNotEquals",
                    "DateLessThan",
                    "DateGreaterThan",
                    "DateGreaterThanEquals",
                ]
            )
            self.missing("aws:CurrentTime", op, if_exists)
            return (
                op + suffix,
                "aws:CurrentTime",
                self.pick(["2026-03-01T00:00:00Z", "2026-06-30T12:00:00Z"]),
            )
        if family == "null":
            key = self.pick(_STRING_KEYS + _LIST_KEYS + ["aws:SourceIp"])
            if self.context.get(key) == []:
                self.tags.add("null-on-empty-list")
            return "Null", key, self.pick(["true", "false", True])
        qualifier = self.pick(["ForAnyValue", "ForAllValues"])
        op = self.pick(["StringEquals", "StringLike", "StringNotEquals", "StringNotLike"])
        key = self.pick(_LIST_KEYS)
        values = self.r.sample(_LIST_VALUES[key], self.r.randint(1, 2))
        if op.endswith("Like") and self.chance(0.5):
            values = [values[0][:5] + "*"]
        if key not in self.context:
            self.tags.add(f"{qualifier}-missing" + ("-ifexists" if if_exists else ""))
        return f"{qualifier}:{op}{suffix}", key, values

    def missing(self, key: str, op: str, if_exists: bool) -> None:
        if key not in self.context and if_exists:
            self.tags.add("ifexists-missing")

    def statement(
        self,
        service: str,
        action: str,
        arn: str,
        *,
        effect: str | None = None,
        principal: Any = None,
        rcp: bool = False,
    ) -> dict[str, Any]:
        effect = effect or ("Allow" if self.chance(0.8) else "Deny")
        out: dict[str, Any] = {"Effect": effect}
        if principal is not None:
            out["Principal"] = principal
        actions = [self.action_pattern(service, action) for _ in range(self.r.randint(1, 2))]
        if rcp:  # "RCP syntax": Action only, never "*" alone; full ARNs
            actions = [a if a != "*" else f"{service}:*" for a in actions]
        if self.chance(0.12) and not rcp:
            out["NotAction"] = actions if len(actions) > 1 else actions[0]
        else:
            out["Action"] = actions if len(actions) > 1 else actions[0]
        negated = self.chance(0.12)
        resources = [
            self.resource_pattern(arn, effect, negated) for _ in range(self.r.randint(1, 2))
        ]
        if rcp:
            resources = [r if r == "*" or r.count(":") >= 5 else arn for r in resources]
        out["NotResource" if negated else "Resource"] = (
            resources if len(resources) > 1 else resources[0]
        )
        if negated and "*" in resources:
            del out["NotResource"]
            out["Resource"] = resources if len(resources) > 1 else resources[0]
        if self.chance(0.45):
            out["Condition"] = self.condition()
        return out

    def policy(self, service: str, action: str, arn: str, count: int, **kw: Any) -> dict[str, Any]:
        statements = [self.statement(service, action, arn, **kw) for _ in range(count)]
        return {"Version": "2012-10-17", "Statement": statements}


def _role_arn_of(principal: str) -> str:
    if ":assumed-role/" in principal:
        account = principal.split(":")[4]
        role = principal.split("/")[1]
        return f"arn:aws:iam::{account}:role/{role}"
    return principal


_ALLOW_ALL = {"Effect": "Allow", "Action": "*", "Resource": "*"}


def _one(rng: random.Random, seed: int) -> Scenario:
    g = _Gen(rng)
    caller_account = HOME
    kind = g.pick(["user", "user", "session", "session", "other-user", "federated", "anonymous"])
    if kind == "user":
        principal = f"arn:aws:iam::{HOME}:user/alice"
    elif kind == "session":
        principal = f"arn:aws:sts::{HOME}:assumed-role/dev/s1"
    elif kind == "federated":
        principal = f"arn:aws:sts::{HOME}:federated-user/fed1"
        g.tags.add("federated")
    elif kind == "anonymous":
        principal = ANONYMOUS
        caller_account = ""
        g.tags.add("anonymous")
    else:
        caller_account = OTHER
        principal = f"arn:aws:iam::{OTHER}:user/bob"
    g.fill_context(principal)
    trust = kind != "anonymous" and g.chance(0.08)
    key = not trust and g.chance(0.08)
    if trust:
        service, action = "sts", "sts:AssumeRole"
        resource_account = g.pick([HOME, OTHER])
        arn = f"arn:aws:iam::{resource_account}:role/target"
    elif key:
        service, action = "kms", g.pick(["kms:Decrypt", "kms:Encrypt", "kms:DescribeKey"])
        resource_account = g.pick([HOME, HOME, OTHER])
        arn = f"arn:aws:kms:{REGION}:{resource_account}:key/{_KEY_ID}"
    else:
        resource_account = g.pick([HOME, HOME, OTHER])
        service, action, arn = g.target(resource_account)
    identity = [g.policy(service, action, arn, g.r.randint(1, 3)) for _ in range(g.r.randint(1, 2))]
    if kind == "anonymous":
        identity = []  # an anonymous caller has only what resource policies grant
    s = Scenario(seed, principal, action, arn, resource_account, g.context, identity)
    if kind != "anonymous" and g.chance(0.25):
        s.boundary = g.policy(service, action, arn, g.r.randint(1, 2))
        g.tags.add("boundary")
    if kind == "federated" or (kind == "session" and g.chance(0.35)):
        s.session = g.policy(service, action, arn, g.r.randint(1, 2))
        g.tags.add("session")
    if kind != "anonymous" and g.chance(0.3):
        for _ in range(g.r.randint(1, 3)):
            level = [copy.deepcopy(_ALLOW_ALL)] if g.chance(0.7) else []
            level.append(g.policy(service, action, arn, 1)["Statement"][0])
            s.scps.append(level)
        g.tags.add("scp")
    if g.chance(0.2) and not trust:
        for _ in range(g.r.randint(1, 2)):
            statement = g.statement(service, action, arn, effect="Deny", principal="*", rcp=True)
            s.rcps.append([statement])
        g.tags.add("rcp")
    cross = caller_account != resource_account
    if trust or key or cross or g.chance(0.35):
        own = caller_account or HOME
        principals = [
            "*",
            {"AWS": own},
            {"AWS": f"arn:aws:iam::{own}:root"},
            {"AWS": _role_arn_of(principal) if kind != "anonymous" else "*"},
            {"AWS": principal if kind != "anonymous" else "*"},
            {"AWS": f"arn:aws:iam::{OTHER if own == HOME else HOME}:user/carol"},
        ]
        statements = [
            g.statement(service, action, arn, principal=g.pick(principals))
            for _ in range(g.r.randint(1, 2))
        ]
        if not trust and kind != "anonymous" and g.chance(0.15):
            # NotPrincipal with Deny: everyone but the listed principals. AWS wants every
            # identity of the caller listed (its ARN, its role's, its account's); sometimes we
            # list them all, sometimes only some.
            identities = [principal, _role_arn_of(principal), f"arn:aws:iam::{own}:root"]
            identities = list(dict.fromkeys(identities))
            listed = identities if g.chance(0.5) else [g.pick(identities)]
            if g.chance(0.3):
                listed = [f"arn:aws:iam::{OTHER if own == HOME else HOME}:user/carol"]
            statements.append(
                {
                    "Effect": "Deny",
                    "NotPrincipal": {"AWS": listed if len(listed) > 1 else listed[0]},
                    "Action": f"{service}:*",
                    "Resource": "*",
                }
            )
            g.tags.add("not-principal")
            if any(i in listed for i in identities) and set(listed) != set(identities):
                g.tags.add("not-principal-partial")
        if any(st.get("Principal") == "*" for st in statements) and (s.session or s.boundary):
            g.tags.add("wildcard-principal-bounded")
        named = {"AWS": principal}
        if ":sts::" in principal and any(st.get("Principal") == named for st in statements):
            if s.session or s.boundary:
                g.tags.add("session-arn-principal-bounded")
        if trust:
            for st in statements:
                st.pop("Resource", None)
                st.pop("NotResource", None)
            s.resource_kind = "trust"
            g.tags.add("trust")
        if key:
            s.resource_kind = "key"
            g.tags.add("key")
        s.resource_policy = {"Version": "2012-10-17", "Statement": statements}
        g.tags.add("cross-account" if cross else "resource-policy")
    s.tags = g.tags
    return s


def _focused(rng: random.Random, seed: int) -> Scenario:
    """One user, one Allow of exactly the request, guarded by one or two conditions (and
    sometimes a Deny with its own): every condition rule decides the answer here, where in a
    full scenario other statements often hide it."""
    g = _Gen(rng)
    principal = f"arn:aws:iam::{HOME}:user/alice"
    g.fill_context(principal)
    service, action, arn = g.target(HOME)
    grant: dict[str, Any] = {"Effect": "Allow", "Action": action, "Resource": arn}
    grant["Condition"] = g.condition()
    statements = [grant]
    if g.chance(0.4):
        guard = {"Effect": "Deny", "Action": f"{service}:*", "Resource": "*"}
        guard["Condition"] = g.condition()
        statements.append(guard)
    if g.chance(0.3):
        statements.append(g.statement(service, action, arn))
    s = Scenario(seed, principal, action, arn, HOME, g.context, [_doc(statements)])
    s.tags = g.tags | {"focused"}
    return s


def generate(seed: int, count: int) -> list[Scenario]:
    """``count`` scenarios from ``seed`` (the same seed always gives the same cases): about a
    third focused on one condition, the rest full scenarios over every layer."""
    rng = random.Random(seed)
    return [_focused(rng, seed) if rng.random() < 0.35 else _one(rng, seed) for _ in range(count)]


def _doc(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": statements}


def to_ours(s: Scenario) -> dict[str, Any]:
    """The case as ``broker policy simulate`` reads it."""
    policies: dict[str, Any] = {"identity": s.identity}
    if s.boundary is not None:
        policies["boundary"] = s.boundary
    if s.session is not None:
        policies["session"] = s.session
    if s.scps:
        policies["scp_hierarchy"] = [[_doc([st]) for st in level] for level in s.scps]
    if s.rcps:
        # The oracle adds AWS's default RCPFullAWSAccess to every level; here it is explicit.
        full = {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}
        policies["rcp_hierarchy"] = [
            [_doc([full]), *[_doc([st]) for st in level]] for level in s.rcps
        ]
    if s.resource_policy is not None:
        policies[s.resource_kind] = [s.resource_policy]
    account = None if s.principal == ANONYMOUS else s.principal.split(":")[4]
    return {
        "policies": policies,
        "request": {
            "action": s.action,
            "resource": s.resource,
            "principal_arn": s.principal,
            "principal_account": account,
            "resource_account": s.resource_account,
            "context": s.context,
        },
    }


def to_oracle(s: Scenario) -> dict[str, Any]:
    """The case as iam-simulate's ``runSimulation`` takes it."""
    out: dict[str, Any] = {
        "request": {
            "principal": {"type": "Anonymous"} if s.principal == ANONYMOUS else s.principal,
            "action": s.action,
            "resource": {"resource": s.resource, "accountId": s.resource_account},
            "contextVariables": s.context,
        },
        "identityPolicies": [
            {"name": f"identity{i}", "policy": p} for i, p in enumerate(s.identity)
        ],
        "serviceControlPolicies": [
            {
                "orgIdentifier": f"ou-{i}",
                "policies": [
                    {"name": f"scp{i}-{j}", "policy": _doc([st])} for j, st in enumerate(level)
                ],
            }
            for i, level in enumerate(s.scps)
        ],
        "resourceControlPolicies": [
            {
                "orgIdentifier": f"ou-{i}",
                "policies": [
                    {"name": f"rcp{i}-{j}", "policy": _doc([st])} for j, st in enumerate(level)
                ],
            }
            for i, level in enumerate(s.rcps)
        ],
    }
    if s.boundary is not None:
        out["permissionBoundaryPolicies"] = [{"name": "boundary", "policy": s.boundary}]
    if s.session is not None:
        out["sessionPolicy"] = s.session
    if s.resource_policy is not None:
        out["resourcePolicy"] = s.resource_policy
    return out
