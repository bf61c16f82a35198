-- The audit chain's rows without a unique index on their hash. Each record's hash was indexed
-- in random order, so every appended event dirtied another page of that index (written to the
-- log, synced and checkpointed on every commit) and cost the writer a B-tree insert; nothing
-- looks a record up by its hash, and the chain itself (each record names its predecessor's
-- hash, `broker audit verify` re-walks it, the head pins its end) is what detects an altered,
-- repeated or missing record. The sequence stays the primary key, so a number is used once.
CREATE TABLE audit_events_lean (
    sequence  BIGINT PRIMARY KEY,
    record    TEXT   NOT NULL,
    hash      TEXT   NOT NULL
);
INSERT INTO audit_events_lean (sequence, record, hash)
SELECT sequence, record, hash FROM audit_events;
DROP TABLE audit_events;
ALTER TABLE audit_events_lean RENAME TO audit_events;
