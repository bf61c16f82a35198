-- Runtime state that replicas must share. The directory's configuration (users, groups,
-- accounts, permission sets, assignments) is deployed as files and loaded by each replica;
-- what changes at run time lives here. No secrets: TOTP seeds stay in the OS keyring, and an
-- access key's secret is re-derived, never stored.

-- MFA devices, with the last TOTP time step used: a code accepted by one replica is refused
-- by every other (RFC 6238 section 5.2, one use per step).
CREATE TABLE mfa_devices (
    user_name  TEXT   NOT NULL,
    device     TEXT   NOT NULL,
    kind       TEXT   NOT NULL,
    created_us BIGINT NOT NULL,
    last_step  BIGINT,
    PRIMARY KEY (user_name, device)
);

-- Users created just in time from an identity provider's claims.
CREATE TABLE jit_users (
    provider      TEXT   NOT NULL,
    subject       TEXT   NOT NULL,
    name          TEXT   NOT NULL,
    email         TEXT   NOT NULL,
    first_seen_us BIGINT NOT NULL,
    PRIMARY KEY (provider, subject)
);

-- Long-term access keys of service users: ids, owners, status and dates only.
CREATE TABLE access_keys (
    access_key_id TEXT   PRIMARY KEY,
    user_name     TEXT   NOT NULL,
    account       TEXT   NOT NULL,
    status        TEXT   NOT NULL CHECK (status IN ('Active', 'Inactive')),
    created_us    BIGINT NOT NULL
);
CREATE INDEX access_keys_user ON access_keys (user_name);
