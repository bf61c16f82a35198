"""Last accessed per service (IAM Access Advisor) and a narrower policy from it.

The services a principal's policies grant are the service prefixes of their Allow statements'
actions. A prefix with wildcards (``s*:Get*``) is expanded against the services the
configuration names anywhere (``known``); an action ``*`` (or an Allow with ``NotAction``)
grants every service, reported as the row ``*``. When each service was last used comes from
the audit log (attempts count, as in IAM). A service is flagged when it was not used within
``days`` days of ``now`` (used exactly ``days`` days ago is still in the window). The suggested
policy keeps Deny statements and every Allow action whose service is not flagged; ``*`` becomes
``svc:*`` for each service still in use; NotAction statements are kept unchanged (narrowing
them cannot be done without widening) and said so in ``notes``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from broker.analyzer.usage import event_service, event_time

__all__ = [
    "ALL_SERVICES",
    "LastAccessed",
    "ServiceUse",
    "granted_services",
    "last_accessed",
    "policy_services",
]

ALL_SERVICES = "*"


@dataclass(frozen=True)
class ServiceUse:
    service: str
    last_used: datetime | None
    unused: bool

    def to_json(self) -> dict[str, Any]:
        when = self.last_used.isoformat(timespec="seconds") if self.last_used else None
        return {"service": self.service, "last_used": when, "unused": self.unused}


@dataclass(frozen=True)
class LastAccessed:
    services: tuple[ServiceUse, ...]
    suggested_policy: Mapping[str, Any] | None
    notes: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "services": [s.to_json() for s in self.services],
            "suggested_policy": dict(self.suggested_policy) if self.suggested_policy else None,
            "notes": list(self.notes),
        }


def _listed(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    body = document.get("Statement", [])
    items = [body] if isinstance(body, Mapping) else body if isinstance(body, list) else []
    return [s for s in items if isinstance(s, Mapping)]


def _action_services(action: str, known: frozenset[str]) -> set[str]:
    """The services an action pattern reaches: ``*`` alone means every service."""
    if action.strip() == "*":
        return {ALL_SERVICES}
    prefix = action.split(":", 1)[0].lower()
    if any(c in prefix for c in "*?"):
        return {s for s in known if fnmatch.fnmatchcase(s, prefix)}
    return {prefix}


def policy_services(documents: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """Every service prefix named in any statement (Allow or Deny) of ``documents``."""
    found: set[str] = set()
    for document in documents:
        for statement in _statements(document):
            for action in _listed(statement.get("Action")) + _listed(statement.get("NotAction")):
                prefix = action.split(":", 1)[0].lower()
                if ":" in action and not any(c in prefix for c in "*?"):
                    found.add(prefix)
    return frozenset(found)


def granted_services(documents: Iterable[Mapping[str, Any]], known: frozenset[str]) -> set[str]:
    """Services the Allow statements grant; ``*`` among them when every service is."""
    granted: set[str] = set()
    for document in documents:
        for statement in _statements(document):
            if statement.get("Effect") != "Allow":
                continue
            if "NotAction" in statement:
                granted.add(ALL_SERVICES)
            for action in _listed(statement.get("Action")):
                granted |= _action_services(action, known)
    return granted


def _narrow_actions(actions: list[str], keep: set[str], known: frozenset[str]) -> list[str]:
    kept: list[str] = []
    for action in actions:
        if action.strip() == "*":
            kept += [f"{s}:*" for s in sorted(keep)]
        elif ":" in action and any(c in action.split(":", 1)[0] for c in "*?"):
            suffix = action.split(":", 1)[1]
            kept += [f"{s}:{suffix}" for s in sorted(_action_services(action, known) & keep)]
        elif action.split(":", 1)[0].lower() in keep:
            kept.append(action)
    return list(dict.fromkeys(kept))


def _suggest(
    documents: Sequence[Mapping[str, Any]], keep: set[str], known: frozenset[str]
) -> tuple[dict[str, Any], list[str]]:
    statements: list[dict[str, Any]] = []
    notes: list[str] = []
    for document in documents:
        for statement in _statements(document):
            if statement.get("Effect") != "Allow":
                statements.append(dict(statement))
            elif "NotAction" in statement:
                statements.append(dict(statement))
                notes.append(
                    f"statement {statement.get('Sid', '(no Sid)')} uses NotAction: kept "
                    "unchanged; narrow it by hand"
                )
            elif actions := _narrow_actions(_listed(statement.get("Action")), keep, known):
                statements.append({**statement, "Action": actions})
    sids = [s["Sid"] for s in statements if "Sid" in s]
    for index, statement in enumerate(statements):
        if "Sid" in statement and sids.count(statement["Sid"]) > 1:
            statement["Sid"] = f"{statement['Sid']}{index}"
    return {"Version": "2012-10-17", "Statement": statements}, notes


def last_accessed(
    documents: Sequence[Mapping[str, Any]],
    events: Iterable[Mapping[str, Any]],
    known: frozenset[str],
    now: datetime,
    days: int,
) -> LastAccessed:
    """Per granted service, when the principal's ``events`` last used it, and a narrower policy.

    ``events`` must already be the principal's own (the caller selects them).
    """
    newest: dict[str, datetime] = {}
    for event in events:
        when = event_time(event)
        if when is None:
            continue
        service = event_service(event)
        if service not in newest or when > newest[service]:
            newest[service] = when
    everything = known | frozenset(newest)
    granted = granted_services(documents, everything)
    listed = set(granted)
    if ALL_SERVICES in granted:
        listed |= everything
    cutoff = now - timedelta(days=days)
    rows = []
    for service in sorted(listed):
        if service == ALL_SERVICES:
            when = max(newest.values(), default=None)
        else:
            when = newest.get(service)
        rows.append(ServiceUse(service, when, when is None or when < cutoff))
    keep = {r.service for r in rows if not r.unused and r.service != ALL_SERVICES}
    policy: dict[str, Any] | None
    policy, notes = _suggest(documents, keep, everything)
    if not granted:
        policy = None
        notes.append("its policies grant no service (people use roles: see --permission-set)")
    elif not any(s.get("Effect") == "Allow" for s in policy["Statement"]):
        policy = None
        notes.append("no granted service was used in the window: detach the policies instead")
    if ALL_SERVICES in granted:
        notes.insert(0, "a policy grants every service (*), not only those listed")
    return LastAccessed(tuple(rows), policy, tuple(notes))
