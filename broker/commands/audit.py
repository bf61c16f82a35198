"""``broker audit verify|tail|query``: check and read the audit log.

They read the state database's chain, the one every replica and front end writes
(``--database-url`` / ``BROKER_DATABASE_URL``, else the data directory's embedded one).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, TextIO

from broker.errors import UsageError

if TYPE_CHECKING:
    pass

__all__ = ["AuditQueryInput", "register", "run_query", "run_verify"]


@dataclass(frozen=True)
class AuditQueryInput:
    """What to show: filters (all optional), at most ``limit`` of the newest when tailing."""

    user: str | None = None
    role: str | None = None
    since: datetime | None = None
    event: str | None = None
    limit: int | None = None


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"--since {text!r}: expected an ISO 8601 time like 2026-01-31T12:00Z"
        ) from None
    if when.tzinfo is None:
        raise UsageError(f"--since {text!r}: give a time zone (append Z for UTC)")
    return when


def run_verify(out: TextIO) -> int:
    """Verify the whole chain; print a one-line summary. ``AuditError`` on any break."""
    from broker.commands.opened_state import opened_state
    from broker.errors import AuditError

    with opened_state() as state:
        check = state.shared.audit.verify()
    if not check.ok:
        raise AuditError(f"the database audit chain is broken: {check.problem}")
    print(f"ok: {check.events} events in the database chain, hash chain intact", file=out)
    return 0


def run_query(spec: AuditQueryInput, out: TextIO) -> int:
    """Print matching events as JSON lines, oldest first."""
    import json
    from collections import deque

    from broker.audit import EventFilter, select
    from broker.commands.opened_state import opened_state

    with opened_state() as state:
        chosen = select(
            state.shared.audit.records(),
            EventFilter(user=spec.user, role=spec.role, since=spec.since, event=spec.event),
        )
        rows = deque(chosen, maxlen=spec.limit) if spec.limit else chosen
        for event in rows:
            print(json.dumps(event, sort_keys=True), file=out)
    return 0


def _input(args: argparse.Namespace, limit: int | None) -> AuditQueryInput:
    return AuditQueryInput(
        user=args.user,
        role=args.role,
        since=_since(args.since),
        event=args.event,
        limit=limit,
    )


def _need_action(_args: argparse.Namespace) -> int:
    raise UsageError("choose an action: `broker audit verify|tail|query` (see --help)")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = subparsers.add_parser("audit", help="the audit log: verify, tail, query")
    actions = audit.add_subparsers(dest="audit_command", metavar="ACTION")
    audit.set_defaults(handler=_need_action)

    verify = actions.add_parser("verify", help="check the hash chain: edits, deletions, cuts")
    verify.set_defaults(handler=lambda a: run_verify(sys.stdout))

    for name, summary in (("query", "events matching filters"), ("tail", "the newest events")):
        action = actions.add_parser(name, help=summary)
        action.add_argument("--user", help="directory user (or IAM user name)")
        action.add_argument("--role", help="role ARN or name")
        action.add_argument("--since", help="ISO 8601 time, e.g. 2026-01-31T12:00Z")
        action.add_argument("--event", help="event name, e.g. AssumeRole")
        if name == "tail":
            action.add_argument("-n", type=int, default=20, help="how many (default 20)")
            action.set_defaults(handler=lambda a: run_query(_input(a, a.n), sys.stdout))
        else:
            action.set_defaults(handler=lambda a: run_query(_input(a, None), sys.stdout))
