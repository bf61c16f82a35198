"""Virtual MFA devices in the shared-state database: the old file imported once, disable and
enable again (a new seed), and the ``broker access-keys mfa-*`` commands."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
from pathlib import Path

import pyotp
import pytest

from broker.commands.sts_mfa import MfaDeviceInput, run_mfa_devices
from broker.errors import ConfigError, UsageError
from broker.private_files import PrivateFiles
from broker.server.query_api import StsService
from broker.sts.signing_keys import KeyRing
from tests.state_support import audit_events, break_audit_chain, embedded_state
from tests.unit.server.test_query_api import call
from tests.unit.sts.test_mfa import MOMENT, at_moment, code_of

ACCOUNT = "111122223333"
SERIAL = f"arn:aws:iam::{ACCOUNT}:mfa/svc-app"


def old_seed(ring: KeyRing, serial: str) -> str:
    """How the file-era device seeds were derived (no nonce), written out independently."""
    digest = hmac.new(ring.user_key_secret, b"mfa\x00" + serial.encode(), hashlib.sha256)
    return base64.b32encode(digest.digest()[:20]).decode()


def session_token(service: StsService, key: tuple[str, str], code: str) -> str:
    params = {"Action": "GetSessionToken", "SerialNumber": SERIAL, "TokenCode": code}
    return code_of(call(service, *key, params))


def test_old_device_file_is_imported_once_and_its_authenticator_keeps_working(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from broker.sts.state import open_sts_state

    old_file = tmp_path / "sts" / "mfa-devices.json"
    PrivateFiles(ConfigError).write_json(old_file, {SERIAL: "svc-app"})
    service = at_moment(StsService.over(open_sts_state(None, tmp_path, pool_size=1), data=tmp_path))
    ring = service.ring
    assert not old_file.exists()
    assert (tmp_path / "sts" / "mfa-devices.json.imported").exists()
    assert "1 MFA device(s)" in capsys.readouterr().err
    device = service.mfa.store.get(SERIAL)
    assert device is not None and device.user == "svc-app" and device.seed_nonce == ""

    record, secret = service.keys.create("svc-app", ACCOUNT)
    enrolled = pyotp.TOTP(old_seed(ring, SERIAL))
    assert session_token(service, (record.access_key_id, secret), enrolled.at(MOMENT)) == "ok"
    # another worker: nothing left to import
    again = at_moment(StsService.over(open_sts_state(None, tmp_path, pool_size=1), data=tmp_path))
    assert "moved" not in capsys.readouterr().err
    assert (
        session_token(again, (record.access_key_id, secret), enrolled.at(MOMENT)) == "AccessDenied"
    )


@pytest.mark.parametrize(
    ("content", "mode"),
    [
        ({SERIAL: "svc-app"}, 0o640),  # others could read it: refused, not trusted
        ({SERIAL: "mallory"}, 0o600),  # the serial names another user
        ({"arn:aws:iam::1:mfa/x": "x"}, 0o600),  # not a device serial
        (["not", "a", "map"], 0o600),
    ],
)
def test_a_doubtful_device_file_stops_the_import_with_the_file_named(
    tmp_path: Path, content: object, mode: int
) -> None:
    old_file = tmp_path / "sts" / "mfa-devices.json"
    PrivateFiles(ConfigError).write_json(old_file, content)
    old_file.chmod(mode)
    with pytest.raises(ConfigError, match=r"mfa-devices\.json"):
        StsService.over(embedded_state(tmp_path), data=tmp_path)
    assert old_file.exists()  # nothing lost: the file stays until it can be imported


def test_disable_then_enable_gives_a_new_seed_and_the_old_one_stops(tmp_path: Path) -> None:
    service = at_moment(StsService.over(embedded_state(tmp_path), data=tmp_path))
    record, secret = service.keys.create("svc-app", ACCOUNT)
    key = (record.access_key_id, secret)
    _serial, first = service.mfa.enable(ACCOUNT, "svc-app")
    with pytest.raises(UsageError, match="mfa-disable svc-app"):
        service.mfa.enable(ACCOUNT, "svc-app")
    assert service.mfa.disable(ACCOUNT, "svc-app") == SERIAL
    with pytest.raises(UsageError, match="not enabled"):
        service.mfa.disable(ACCOUNT, "svc-app")
    _serial, second = service.mfa.enable(ACCOUNT, "svc-app")
    old, new = pyotp.parse_uri(first), pyotp.parse_uri(second)
    assert old.secret != new.secret
    assert session_token(service, key, old.at(MOMENT)) == "AccessDenied"
    assert session_token(service, key, new.at(MOMENT)) == "ok"


def test_enable_refuses_malformed_names(tmp_path: Path) -> None:
    service = at_moment(StsService.over(embedded_state(tmp_path), data=tmp_path))
    with pytest.raises(UsageError, match="12-digit"):
        service.mfa.enable("12345", "svc-app")
    with pytest.raises(UsageError, match="user name"):
        service.mfa.enable(ACCOUNT, "svc app/../x")


def test_commands_enable_list_disable_in_the_embedded_database(
    broker_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("BROKER_DATABASE_URL", raising=False)
    out = io.StringIO()
    assert run_mfa_devices(MfaDeviceInput("enable", "svc-app", ACCOUNT), out) == 0
    serial, uri = out.getvalue().strip().split("\t")
    assert serial == SERIAL and pyotp.parse_uri(uri).secret
    assert "shown only once" in capsys.readouterr().err
    assert pyotp.parse_uri(uri).secret.encode() not in b"".join(
        p.read_bytes() for p in broker_home.glob("broker.db*")
    )
    with pytest.raises(UsageError, match="already enabled"):
        run_mfa_devices(MfaDeviceInput("enable", "svc-app", ACCOUNT), io.StringIO())
    listed = io.StringIO()
    run_mfa_devices(MfaDeviceInput("list", "svc-app"), listed)
    assert [line.split("\t")[0] for line in listed.getvalue().splitlines()] == [SERIAL]
    assert run_mfa_devices(MfaDeviceInput("disable", "svc-app", ACCOUNT), io.StringIO()) == 0
    empty = io.StringIO()
    run_mfa_devices(MfaDeviceInput("list", "svc-app"), empty)
    assert empty.getvalue() == ""


def test_a_device_of_the_same_user_name_in_another_account_is_refused(tmp_path: Path) -> None:
    service = at_moment(StsService.over(embedded_state(tmp_path), data=tmp_path))
    _serial, uri = service.mfa.enable(ACCOUNT, "svc-app")
    record, secret = service.keys.create("svc-app", "444455556666")  # another principal
    code = pyotp.parse_uri(uri).at(MOMENT)
    assert session_token(service, (record.access_key_id, secret), code) == "AccessDenied"
    home, home_secret = service.keys.create("svc-app", ACCOUNT)
    assert session_token(service, (home.access_key_id, home_secret), code) == "ok"  # unused


def test_commands_audit_each_change_before_making_it(
    broker_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BROKER_DATABASE_URL", raising=False)
    out = io.StringIO()
    run_mfa_devices(MfaDeviceInput("enable", "svc-app", ACCOUNT), out)
    run_mfa_devices(MfaDeviceInput("disable", "svc-app", ACCOUNT), io.StringIO())
    events = audit_events(broker_home)
    assert [e["eventName"] for e in events] == ["EnableMFADevice", "DeactivateMFADevice"]
    assert all(e["requestParameters"]["serialNumber"] == SERIAL for e in events)
    seed = pyotp.parse_uri(out.getvalue().split("\t")[1].strip()).secret
    assert seed.encode() not in (broker_home / "broker.db").read_bytes()


def test_no_audit_no_change(broker_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from broker.errors import AuditError

    monkeypatch.delenv("BROKER_DATABASE_URL", raising=False)
    break_audit_chain(broker_home)
    with pytest.raises(AuditError):
        run_mfa_devices(MfaDeviceInput("enable", "svc-app", ACCOUNT), io.StringIO())
    listed = io.StringIO()
    run_mfa_devices(MfaDeviceInput("list", "svc-app"), listed)
    assert listed.getvalue() == ""
