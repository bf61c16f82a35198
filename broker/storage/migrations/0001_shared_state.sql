-- Shared server-side state. Portable SQL: the same schema on SQLite and PostgreSQL.
-- Times are integer microseconds since the Unix epoch (UTC).

-- One-time values (used SAML assertion ids, InResponseTo ids, used refresh tokens) until
-- they expire: a replay to any replica finds the row.
CREATE TABLE replay_cache (
    namespace  TEXT   NOT NULL,
    value      TEXT   NOT NULL,
    expires_us BIGINT NOT NULL,
    PRIMARY KEY (namespace, value)
);
CREATE INDEX replay_cache_expiry ON replay_cache (expires_us);

-- "Issued before T" cutoffs per role or user, and single sessions by id.
CREATE TABLE revocations (
    kind       TEXT   NOT NULL CHECK (kind IN ('role', 'user', 'session')),
    value      TEXT   NOT NULL,
    before_us  BIGINT NOT NULL,
    created_us BIGINT NOT NULL,
    PRIMARY KEY (kind, value, before_us)
);

-- The audit log: one hash chain (eventSequence, previousEventHash), one writer at a time.
CREATE TABLE audit_events (
    sequence  BIGINT PRIMARY KEY,
    record    TEXT   NOT NULL,
    hash      TEXT   NOT NULL UNIQUE
);

-- Session-token signing keys shared by the replicas (the material is secret: protect the
-- database as the key file it replaces).
CREATE TABLE signing_keys (
    kid        TEXT   PRIMARY KEY,
    created_us BIGINT NOT NULL,
    retired_us BIGINT,
    material   TEXT   NOT NULL
);

-- Secrets of the key ring as a whole (the derivation secret of long-term user keys), created
-- once by whichever replica starts first.
CREATE TABLE key_ring_secrets (
    name       TEXT   PRIMARY KEY,
    material   TEXT   NOT NULL,
    created_us BIGINT NOT NULL
);
