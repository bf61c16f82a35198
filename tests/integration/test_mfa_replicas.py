"""Service users' MFA devices shared by two `broker serve` replicas on one PostgreSQL database.

A device enabled through one host's command line (or listed in one host's old device file) is
known to both replicas; a code accepted by B is refused as a replay by A with STS's own
AccessDenied text, a wrong code is refused, and two replicas racing for one code accept it once.
Migration 0005 applies on an existing 0004 database.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pyotp
import pytest
from botocore.exceptions import ClientError

from broker.errors import ConfigError
from broker.private_files import PrivateFiles
from broker.storage.database import open_database
from broker.storage.key_set import SqlKeySet
from broker.storage.migrations import applied, upgrade
from broker.storage.sts_mfa_devices import SqlStsMfaDevices
from broker.sts.key_ring_db import DatabaseKeyRing
from broker.sts.session_token import verify_session
from tests.integration.test_serve_replicas import ACCOUNT, _two_replicas, _user_key
from tests.integration.test_sts_clients import sts
from tests.totp_codes import UnusedCodes

pytestmark = pytest.mark.integration

INVALID = "MultiFactorAuthentication failed with invalid MFA one time pass code."


def _refusal(call: object) -> tuple[str, str]:
    with pytest.raises(ClientError) as refused:
        call()  # type: ignore[operator]
    error = refused.value.response["Error"]
    return error["Code"], error["Message"]


def _ring(url: str):  # the replicas' shared key ring, read straight from the database
    database = open_database(url, pool_size=1)
    try:
        return DatabaseKeyRing(SqlKeySet(database)).current()
    finally:
        database.close()


def test_device_enabled_on_one_host_is_one_device_for_every_replica(
    fresh_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROKER_DATABASE_URL", fresh_database)
    legacy_serial = f"arn:aws:iam::{ACCOUNT}:mfa/svc-legacy"
    old_file = tmp_path / "a" / "sts" / "mfa-devices.json"
    # A's device list from before the database
    PrivateFiles(ConfigError).write_json(old_file, {legacy_serial: "svc-legacy"})
    with _two_replicas(fresh_database, tmp_path) as ((_, a), (_, b)):
        assert not old_file.exists() and old_file.with_name("mfa-devices.json.imported").exists()
        enabled = a.cli("access-keys", "mfa-enable", "svc-app", "--account", ACCOUNT)
        assert enabled.returncode == 0, enabled.stderr
        serial, uri = enabled.stdout.strip().split("\t")
        assert "EnableMFADevice" in b.cli("audit", "query", "--event", "EnableMFADevice").stdout
        listed = b.cli("access-keys", "mfa-list", "svc-app")
        assert listed.stdout.split("\t")[0] == serial
        assert not (a.home / "sts" / "mfa-devices.json").exists()
        key = _user_key(b)
        device = pyotp.parse_uri(uri)
        codes = UnusedCodes(device)
        code = codes.next()

        minted = sts(b, *key).get_session_token(SerialNumber=serial, TokenCode=code)
        creds = minted["Credentials"]
        claims, _ = verify_session(
            _ring(fresh_database), creds["SessionToken"], creds["AccessKeyId"]
        )
        assert claims.mfa is True
        who = sts(a, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
        assert who.get_caller_identity()["Arn"].endswith(":user/svc-app")

        replay = _refusal(
            lambda: sts(a, *key).get_session_token(SerialNumber=serial, TokenCode=code)
        )
        assert replay == ("AccessDenied", INVALID)
        wrong = f"{(int(code) + 500_000) % 1_000_000:06d}"
        refused = _refusal(
            lambda: sts(b, *key).get_session_token(SerialNumber=serial, TokenCode=wrong)
        )
        assert refused == ("AccessDenied", INVALID)

        ahead = codes.next()  # a later step inside the window, not yet used: one winner
        outcomes: list[str] = []

        def race(server: object) -> None:
            try:
                sts(server, *key).get_session_token(SerialNumber=serial, TokenCode=ahead)
                outcomes.append("ok")
            except ClientError as exc:
                outcomes.append(exc.response["Error"]["Code"])

        threads = [threading.Thread(target=race, args=(s,)) for s in (a, b, a, b)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(outcomes) == ["AccessDenied"] * 3 + ["ok"]

        # The device from A's old file, enrolled under the shared ring, works through B.
        legacy_key = b.cli("access-keys", "create", "svc-legacy", "--account", ACCOUNT)
        assert legacy_key.returncode == 0, legacy_key.stderr
        legacy_id, legacy_secret = legacy_key.stdout.strip().split("\t")
        legacy_seed = _old_seed(fresh_database, legacy_serial)
        legacy = sts(b, legacy_id, legacy_secret).get_session_token(
            SerialNumber=legacy_serial, TokenCode=pyotp.TOTP(legacy_seed).now()
        )
        assert legacy["Credentials"]["AccessKeyId"]


def _old_seed(url: str, serial: str) -> str:
    """The seed the old file's devices had: HMAC of the serial under the ring secret."""
    import base64
    import hashlib
    import hmac

    secret = _ring(url).user_key_secret
    digest = hmac.new(secret, b"mfa\x00" + serial.encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:20]).decode()


def test_migration_0005_applies_on_an_existing_0004_postgresql_database(
    fresh_database: str,
) -> None:
    database = open_database(fresh_database, pool_size=1)
    try:
        assert [m.version for m in upgrade(database, through=4)] == [1, 2, 3, 4]
        with database.transaction() as cursor:
            cursor.execute(
                "INSERT INTO access_keys (access_key_id, user_name, account, status, created_us) "
                "VALUES ('BRKUEXAMPLE', 'svc-app', '111122223333', 'Active', 1)"
            )
        assert [m.name for m in upgrade(database, through=5)] == ["sts_mfa_devices"]
        assert set(applied(database)) == {1, 2, 3, 4, 5}
        store = SqlStsMfaDevices(database)
        serial = f"arn:aws:iam::{ACCOUNT}:mfa/svc-app"
        assert store.add(serial, "svc-app", ACCOUNT, "")
        assert store.accept_step(serial, 10) and not store.accept_step(serial, 10)
        with database.transaction(read_only=True) as cursor:
            cursor.execute("SELECT user_name FROM access_keys")
            assert cursor.fetchall() == [("svc-app",)]
    finally:
        database.close()
