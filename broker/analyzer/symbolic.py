"""A symbolic request: the caller, action, resource and context as z3 terms, and the concrete
request (the witness) read back from a model.

The caller is one *shape* per query (``PrincipalShape``): an IAM principal of some account
(root, user, role, role session, federated user), a named external principal (a web-identity
or SAML provider), or the anonymous caller. Keys that describe the caller
(``aws:PrincipalArn``, ``aws:PrincipalAccount``, ``aws:PrincipalOrgID``) are bound to it as AWS
sets them; every other key is free: present or absent, any single value.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Literal

import z3

from broker.analyzer.globs import ascii_string, printable
from broker.analyzer.support import KeyType
from broker.policy import Request

__all__ = ["ArnParts", "IpKey", "PrincipalShape", "StrKey", "SymbolicRequest"]

ShapeKind = Literal[
    "root", "user", "role", "role_session", "federated_user", "external", "anonymous"
]
IAM_SHAPES: tuple[ShapeKind, ...] = ("root", "user", "role", "role_session", "federated_user")


@dataclass(frozen=True, slots=True)
class PrincipalShape:
    kind: ShapeKind
    name: str = ""  # the external principal's name (``external`` only)


@dataclass(frozen=True, slots=True)
class ArnParts:
    """An IAM/STS principal ARN kept in parts (``arn:aws:SERVICE::ACCOUNT:TAIL``): tests on it
    split the same way, so the solver never has to see through a concatenation with the
    account in it (which it handles orders of magnitude slower)."""

    service: str
    account: z3.SeqRef
    tail: z3.SeqRef


@dataclass(slots=True)
class StrKey:
    present: z3.BoolRef
    value: z3.SeqRef
    parts: ArnParts | None = None


@dataclass(slots=True)
class IpKey:
    """An IP key: absent, malformed (every IP test false), IPv4 or IPv6."""

    present: z3.BoolRef
    malformed: z3.BoolRef
    v6: z3.BoolRef
    v4_bits: z3.BitVecRef
    v6_bits: z3.BitVecRef


def _name_without_slash() -> z3.ReRef:
    return z3.Plus(z3.Union(z3.Range(" ", "."), z3.Range("0", "~")))


@dataclass
class SymbolicRequest:
    """The request as z3 terms, with the side constraints that keep it well formed."""

    shape: PrincipalShape
    key_types: dict[str, KeyType]
    prefix: str = "r"
    constraints: list[z3.BoolRef] = field(default_factory=list)
    keys: dict[str, StrKey | IpKey] = field(default_factory=dict)

    def __post_init__(self) -> None:
        p = self.prefix
        self.action = z3.String(f"{p}.action")
        self.resource = z3.String(f"{p}.resource")
        self.account = z3.String(f"{p}.account")
        self.org_present = z3.Bool(f"{p}.org?")
        self.org_id = z3.String(f"{p}.org")
        self.constraints += [
            z3.InRe(self.action, ascii_string()),
            z3.InRe(self.resource, ascii_string()),
            z3.InRe(self.org_id, z3.Plus(printable())),
        ]
        self.role_arn: z3.SeqRef | None = None
        self.arn_parts: ArnParts | None = None
        self.role_arn_parts: ArnParts | None = None
        kind = self.shape.kind
        if kind in IAM_SHAPES:
            self.constraints.append(z3.InRe(self.account, z3.Loop(z3.Range("0", "9"), 12, 12)))
            head = (
                "arn:aws:sts::" if kind in ("role_session", "federated_user") else "arn:aws:iam::"
            )
            name = z3.String(f"{p}.name")
            if kind == "root":
                tail: z3.SeqRef = z3.StringVal("root")
            elif kind == "role_session":
                role = z3.String(f"{p}.role")
                self.constraints += [
                    z3.InRe(role, _name_without_slash()),
                    z3.InRe(name, _name_without_slash()),
                ]
                tail = z3.Concat(z3.StringVal("assumed-role/"), role, z3.StringVal("/"), name)
                self.role_arn = z3.Concat(
                    z3.StringVal("arn:aws:iam::"), self.account, z3.StringVal(":role/"), role
                )
                role_tail = z3.Concat(z3.StringVal("role/"), role)
                self.role_arn_parts = ArnParts("iam", self.account, role_tail)
            else:
                word = {"user": "user/", "role": "role/", "federated_user": "federated-user/"}
                self.constraints.append(z3.InRe(name, z3.Plus(printable())))
                tail = z3.Concat(z3.StringVal(word[kind]), name)
            self.arn: z3.SeqRef = z3.Concat(
                z3.StringVal(head), self.account, z3.StringVal(":"), tail
            )
            self.arn_parts = ArnParts(head.split(":")[2], self.account, tail)
        else:
            self.arn = z3.StringVal(self.shape.name if kind == "external" else "anonymous")
            self.constraints.append(self.account == z3.StringVal(""))

    @property
    def iam(self) -> bool:
        return self.shape.kind in IAM_SHAPES

    def key(self, name: str) -> StrKey | IpKey:
        """The term for context key ``name`` (lower-cased), made on first use."""
        found = self.keys.get(name)
        if found is not None:
            return found
        p = f"{self.prefix}.ctx[{name}]"
        if self.key_types.get(name) == "ip":
            made: StrKey | IpKey = IpKey(
                z3.Bool(f"{p}?"),
                z3.Bool(f"{p}.malformed"),
                z3.Bool(f"{p}.v6"),
                z3.BitVec(f"{p}.v4", 32),
                z3.BitVec(f"{p}.v6bits", 128),
            )
        elif name == "aws:principalarn":
            if self.role_arn is None:
                made = StrKey(z3.BoolVal(self.iam), self.arn, self.arn_parts)
            else:
                made = StrKey(z3.BoolVal(self.iam), self.role_arn, self.role_arn_parts)
        elif name == "aws:principalaccount":
            made = StrKey(z3.BoolVal(self.iam), self.account)
        elif name == "aws:principalorgid":
            made = StrKey(z3.And(self.org_present, z3.BoolVal(self.iam)), self.org_id)
        else:
            value = z3.String(p)
            self.constraints.append(z3.InRe(value, ascii_string()))
            made = StrKey(z3.Bool(f"{p}?"), value)
        self.keys[name] = made
        return made

    def witness(
        self, model: z3.ModelRef, *, resource_account: str, resource: str | None = None
    ) -> Request:
        """The concrete request ``model`` describes."""

        def text(term: z3.ExprRef) -> str:
            return str(model.eval(term, model_completion=True).as_string())

        def true(term: z3.BoolRef) -> bool:
            return bool(z3.is_true(model.eval(term, model_completion=True)))

        context: dict[str, str] = {}
        for name, key in self.keys.items():
            if not true(key.present):
                continue
            if isinstance(key, StrKey):
                context[name] = text(key.value)
            elif true(key.malformed):
                context[name] = "not-an-ip-address"
            elif true(key.v6):
                bits = model.eval(key.v6_bits, model_completion=True).as_long()
                context[name] = str(ipaddress.IPv6Address(bits))
            else:
                bits = model.eval(key.v4_bits, model_completion=True).as_long()
                context[name] = str(ipaddress.IPv4Address(bits))
        return Request(
            action=text(self.action),
            resource=resource if resource is not None else text(self.resource),
            principal_arn=text(self.arn),
            principal_account=text(self.account),
            resource_account=resource_account,
            context=context,
        )
