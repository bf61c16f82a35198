-- Session policies by digest: a token carries only the SHA-256 of its session policy, so the
-- replica that verifies a later call must find the text the minting replica stored. Content
-- addressed and not secret.
CREATE TABLE session_policies (
    digest     TEXT   PRIMARY KEY,
    document   TEXT   NOT NULL,
    created_us BIGINT NOT NULL
);
