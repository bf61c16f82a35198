"""The append-only, hash-chained audit log (CloudTrail-shaped events)."""

from broker.audit.events import SECRET_FIELDS, cloudtrail_event, redact
from broker.audit.log import GENESIS_HASH, AuditLog, VerifyResult, default_log_path
from broker.audit.query import EventFilter, select

__all__ = [
    "GENESIS_HASH",
    "SECRET_FIELDS",
    "AuditLog",
    "EventFilter",
    "VerifyResult",
    "cloudtrail_event",
    "default_log_path",
    "redact",
    "select",
]
