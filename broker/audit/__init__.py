"""The append-only, hash-chained audit log (CloudTrail-shaped events)."""
