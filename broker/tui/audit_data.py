"""The audit view's rows: the hash-chained log newest first, filtered, with the chain's status.

No Textual here; the log holds no secret, so neither do the rows.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from broker.errors import BrokerError, UsageError

__all__ = ["audit_rows"]


def audit_rows(data_dir: Path, query: str = "") -> tuple[str, list[tuple[str, ...]]]:
    """The chain's status and the events ``query`` keeps, newest first.

    ``query``: ``user=NAME role=NAME|ARN event=NAME since=ISO-TIME`` words, all optional.
    Rows: time, event, who, role, outcome (the error code, or ``ok``). Never a secret: the
    log holds none.

    Raises:
        UsageError: an unknown filter word.
    """
    from broker.audit import AuditLog, EventFilter, select

    spec: dict[str, Any] = {}
    for word in query.split():
        key, sep, value = word.partition("=")
        if not sep or key not in ("user", "role", "event", "since"):
            raise UsageError(f"audit filter {word!r}: use user=, role=, event= or since=")
        spec[key] = datetime.fromisoformat(value) if key == "since" else value
    log = AuditLog(data_dir / "audit" / "audit.jsonl")
    try:
        verified = log.verify()
        status = f"chain verified ({verified.events} events)"
    except BrokerError as exc:
        status = f"CHAIN BROKEN: {exc}"
    rows: list[tuple[str, ...]] = []
    for event in select(log.events(), EventFilter(**spec)):
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
