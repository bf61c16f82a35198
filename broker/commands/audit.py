"""``broker audit verify|tail|query``: check and read the audit log.

Without ``--log`` they read the state database's chain, the one every replica and front end
writes (``--database-url`` / ``BROKER_DATABASE_URL``, else the data directory's embedded one).
"""

from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from broker.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from broker.storage.audit_chain import SqlAuditLog

__all__ = ["AuditQueryInput", "register", "run_query", "run_verify"]


@dataclass(frozen=True)
class AuditQueryInput:
    """What to show: filters (all optional), at most ``limit`` of the newest when tailing."""

    log: Path | None
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


@contextmanager
def _database_chain(log: Path | None) -> Iterator[SqlAuditLog | None]:
    """The state database's chain unless a file was asked for (then ``None``)."""
    if log is not None:
        yield None
        return
    from broker.commands.opened_state import opened_state

    with opened_state() as state:
        yield state.shared.audit


def run_verify(log: Path | None, out: TextIO) -> int:
    """Verify the whole chain; print a one-line summary. ``AuditError`` on any break."""
    from broker.audit import AuditLog
    from broker.errors import AuditError

    with _database_chain(log) as chain:
        if chain is not None:
            check = chain.verify()
            if not check.ok:
                raise AuditError(f"the database audit chain is broken: {check.problem}")
            print(f"ok: {check.events} events in the database chain, hash chain intact", file=out)
            return 0
    result = AuditLog(log).verify()
    print(f"ok: {result.events} events, hash chain intact, last {result.last_hash}", file=out)
    return 0


def run_query(spec: AuditQueryInput, out: TextIO) -> int:
    """Print matching events as JSON lines, oldest first."""
    import json
    from collections import deque

    from broker.audit import AuditLog, EventFilter, select

    with _database_chain(spec.log) as chain:
        events: Iterable[Mapping[str, Any]] = (
            chain.records() if chain is not None else AuditLog(spec.log).events()
        )
        chosen = select(
            events,
            EventFilter(user=spec.user, role=spec.role, since=spec.since, event=spec.event),
        )
        rows = deque(chosen, maxlen=spec.limit) if spec.limit else chosen
        for event in rows:
            print(json.dumps(event, sort_keys=True), file=out)
    return 0


def _input(args: argparse.Namespace, limit: int | None) -> AuditQueryInput:
    return AuditQueryInput(
        log=args.log,
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
    log_help = "an audit log file to read instead of the state database's chain"

    verify = actions.add_parser("verify", help="check the hash chain: edits, deletions, cuts")
    verify.add_argument("--log", type=Path, help=log_help)
    verify.set_defaults(handler=lambda a: run_verify(a.log, sys.stdout))

    for name, summary in (("query", "events matching filters"), ("tail", "the newest events")):
        action = actions.add_parser(name, help=summary)
        action.add_argument("--log", type=Path, help=log_help)
        action.add_argument("--user", help="directory user (or IAM user name)")
        action.add_argument("--role", help="role ARN or name")
        action.add_argument("--since", help="ISO 8601 time, e.g. 2026-01-31T12:00Z")
        action.add_argument("--event", help="event name, e.g. AssumeRole")
        if name == "tail":
            action.add_argument("-n", type=int, default=20, help="how many (default 20)")
            action.set_defaults(handler=lambda a: run_query(_input(a, a.n), sys.stdout))
        else:
            action.set_defaults(handler=lambda a: run_query(_input(a, None), sys.stdout))
