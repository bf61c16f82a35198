-- Virtual MFA devices of service users' long-term keys (`broker access-keys mfa-enable`),
-- shared by every replica. No secret: the seed is derived from the key ring's user-key secret,
-- the device's serial and `seed_nonce` (random per enrolment, so a device enabled again gets a
-- new seed; empty for devices imported from the old `sts/mfa-devices.json` file, whose seeds
-- were derived without one). `last_step` is the last TOTP time step accepted: one conditional
-- UPDATE per code, so a code accepted by one replica is refused by every other.
CREATE TABLE sts_mfa_devices (
    serial     TEXT   PRIMARY KEY,
    user_name  TEXT   NOT NULL,
    account    TEXT   NOT NULL,
    seed_nonce TEXT   NOT NULL,
    created_us BIGINT NOT NULL,
    last_step  BIGINT
);
CREATE INDEX sts_mfa_devices_user ON sts_mfa_devices (user_name);
