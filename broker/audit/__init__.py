"""Audit events (CloudTrail-shaped), their redaction and their query; the events themselves
live in the one state's hash chain (``broker.storage.audit_chain``)."""

from broker.audit.events import REDACTED, SECRET_FIELDS, cloudtrail_event, redact, redact_text
from broker.audit.query import EventFilter, select

__all__ = [
    "REDACTED",
    "SECRET_FIELDS",
    "EventFilter",
    "cloudtrail_event",
    "redact",
    "redact_text",
    "select",
]
