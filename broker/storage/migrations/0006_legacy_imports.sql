-- Files of the data directory's old layout (signing-key file, access-key and revocation
-- lists, session-policy files, MFA device list, audit log) moved into this database: one row
-- per file, written in the same transaction as its contents, so an import interrupted after
-- its commit (before the file was renamed aside) is never applied twice.
CREATE TABLE legacy_imports (
    name       TEXT   PRIMARY KEY,
    source     TEXT   NOT NULL,
    done_us    BIGINT NOT NULL
);
