"""The audit view's rows: the state's audit chain newest first, filtered, with its status.

No Textual here; the log holds no secret, so neither do the rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from broker.errors import BrokerError, UsageError

if TYPE_CHECKING:
    from broker.audit import EventFilter
    from broker.storage.audit_chain import SqlAuditLog
    from broker.sts.state_handle import StateHandle

__all__ = ["audit_rows"]


def audit_rows(state: StateHandle, query: str = "") -> tuple[str, list[tuple[str, ...]]]:
    """The chain's status and the events ``query`` keeps, newest first.

    ``query``: ``user=NAME role=NAME|ARN event=NAME since=ISO-TIME`` words, all optional.
    Rows: time, event, who, role, outcome (the error code, or ``ok``). Never a secret: the
    log holds none. ``state``: the app's, opened on first need and closed by the app.

    Raises:
        UsageError: an unknown filter word.
    """
    from broker.audit import EventFilter

    spec: dict[str, Any] = {}
    for word in query.split():
        key, sep, value = word.partition("=")
        if not sep or key not in ("user", "role", "event", "since"):
            raise UsageError(f"audit filter {word!r}: use user=, role=, event= or since=")
        spec[key] = datetime.fromisoformat(value) if key == "since" else value
    return _rows(state.state().shared.audit, EventFilter(**spec))


def _rows(log: SqlAuditLog, chosen: EventFilter) -> tuple[str, list[tuple[str, ...]]]:
    from broker.audit import select

    try:
        check = log.verify()
    except BrokerError as exc:
        status = f"CHAIN BROKEN: {exc}"
    else:
        verified = f"chain verified ({check.events} events)"
        status = verified if check.ok else f"CHAIN BROKEN: {check.problem}"
    rows: list[tuple[str, ...]] = []
    for event in select(log.records(), chosen):
        identity = event.get("userIdentity") or {}
        who = identity.get("userName") or identity.get("arn") or identity.get("principalId")
        params = event.get("requestParameters") or {}
        rows.append(
            (
                str(event.get("eventTime", "")),
                str(event.get("eventName", "")),
                str(who or "-"),
                str(params.get("roleArn") or "-"),
                str(event.get("errorCode") or "ok"),
            )
        )
    rows.reverse()
    return status, rows
