"""The append-only, hash-chained audit log (CloudTrail-shaped events)."""

from broker.audit.events import REDACTED, SECRET_FIELDS, cloudtrail_event, redact, redact_text
from broker.audit.log import GENESIS_HASH, AuditLog, VerifyResult, default_log_path
from broker.audit.query import EventFilter, select

__all__ = [
    "GENESIS_HASH",
    "REDACTED",
    "SECRET_FIELDS",
    "AuditLog",
    "EventFilter",
    "VerifyResult",
    "cloudtrail_event",
    "default_log_path",
    "redact",
    "redact_text",
    "select",
]
