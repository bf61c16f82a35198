-- The audit chain's head (high-water mark): the newest record's sequence number and hash,
-- written in the same transaction as each appended batch. Deleting the newest records leaves
-- the head pointing past the chain's end, which `broker audit verify` reports; writers number
-- from the head, so records appended after a cut leave a gap instead of hiding it.
CREATE TABLE audit_head (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    sequence  BIGINT  NOT NULL,
    hash      TEXT    NOT NULL
);

-- A chain written before this migration starts with its current end as the head.
INSERT INTO audit_head (id, sequence, hash)
SELECT 1, sequence, hash FROM audit_events ORDER BY sequence DESC LIMIT 1;
