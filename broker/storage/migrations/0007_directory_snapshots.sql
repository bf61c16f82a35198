-- The directory snapshot: the configuration's users, groups, accounts, OUs, SCPs, permission
-- sets, roles and federation entries, validated and flattened into rows, one row set per
-- configuration fingerprint. `content` is the whole row set as one JSON document (table name
-- -> rows), so a snapshot is stored by one INSERT: a reader finds all of it or none, on both
-- backends. Each broker serves the snapshot of its own configuration files; two replicas with
-- the same files share one row, and a replica with other files (a rolling deploy) adds its own
-- beside it. Only the newest few are kept. Derived from files, not secret: the runtime state
-- (MFA devices, JIT users, access keys) is in the tables of 0002.
CREATE TABLE directory_snapshots (
    fingerprint    TEXT   NOT NULL,
    schema_version TEXT   NOT NULL,
    built_us       BIGINT NOT NULL,
    config_dir     TEXT   NOT NULL,
    content        TEXT   NOT NULL,
    PRIMARY KEY (fingerprint, schema_version)
);
CREATE INDEX directory_snapshots_built ON directory_snapshots (built_us);
