"""MFA (TOTP) on GetSessionToken and AssumeRole: proven codes only, once each."""

from __future__ import annotations

import json

import pyotp
import pytest

from broker.server.query_api import StsService
from tests.state_support import embedded_state
from tests.unit.server.test_query_api import call, credentials_of
from tests.unit.sts.principal_data import HOME, Directory, trust

USER_ARN = f"arn:aws:iam::{HOME}:user/svc-app"
# The moment every code is checked at: 10 s into a TOTP step, chosen rather than waited for.
MOMENT = 1_800_000_010.0


def at_moment(service: StsService) -> StsService:
    """``service`` with its MFA devices checking codes at ``MOMENT``."""
    service.mfa.clock = lambda: MOMENT
    return service


@pytest.fixture
def setup(tmp_path):
    directory = Directory()
    mfa_only = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    directory.add_role(HOME, "Guarded", trust({"AWS": USER_ARN}, condition=mfa_only))
    service = at_moment(
        StsService.over(embedded_state(tmp_path), data=tmp_path, principals=directory)
    )
    record, secret = service.keys.create("svc-app", HOME)
    serial, uri = service.mfa.enable(HOME, "svc-app")
    totp = pyotp.parse_uri(uri)
    return service, (record.access_key_id, secret), serial, totp


def code_of(answer) -> str:
    return answer.body.split("<Code>")[1].split("</Code>")[0] if "<Code>" in answer.body else "ok"


def test_session_token_with_a_valid_code_carries_mfa_once(setup) -> None:
    service, key, serial, totp = setup
    code = totp.at(MOMENT)
    answer = call(
        service, *key, {"Action": "GetSessionToken", "SerialNumber": serial, "TokenCode": code}
    )
    assert answer.status == 200, answer.body
    from broker.sts.session_token import verify_session

    creds = credentials_of(answer.body)
    claims, _ = verify_session(service.ring, creds["SessionToken"], creds["AccessKeyId"])
    assert claims.mfa is True
    replay = call(
        service, *key, {"Action": "GetSessionToken", "SerialNumber": serial, "TokenCode": code}
    )
    assert code_of(replay) == "AccessDenied"


def test_wrong_code_or_someone_elses_device_is_refused(setup) -> None:
    service, key, serial, totp = setup
    wrong = f"{(int(totp.at(MOMENT)) + 1) % 1_000_000:06d}"
    assert (
        code_of(
            call(
                service,
                *key,
                {"Action": "GetSessionToken", "SerialNumber": serial, "TokenCode": wrong},
            )
        )
        == "AccessDenied"
    )
    other_serial = f"arn:aws:iam::{HOME}:mfa/bob"
    assert (
        code_of(
            call(
                service,
                *key,
                {
                    "Action": "GetSessionToken",
                    "SerialNumber": other_serial,
                    "TokenCode": totp.at(MOMENT),
                },
            )
        )
        == "AccessDenied"
    )
    assert (
        code_of(
            call(
                service,
                *key,
                {"Action": "GetSessionToken", "SerialNumber": serial, "TokenCode": "12ab56"},
            )
        )
        == "ValidationError"
    )


def test_trust_policy_requiring_mfa(setup) -> None:
    service, key, serial, totp = setup
    role = f"arn:aws:iam::{HOME}:role/Guarded"
    base = {"Action": "AssumeRole", "RoleArn": role, "RoleSessionName": "ops"}
    assert code_of(call(service, *key, base)) == "AccessDenied"
    direct = call(service, *key, {**base, "SerialNumber": serial, "TokenCode": totp.at(MOMENT)})
    assert direct.status == 200, direct.body
    previous = totp.at(MOMENT - 30)  # valid within the window, but older than the used one
    stale = call(
        service, *key, {"Action": "GetSessionToken", "SerialNumber": serial, "TokenCode": previous}
    )
    assert code_of(stale) == "AccessDenied"
    following = totp.at(MOMENT + 30)  # one step ahead: within the window, not yet used
    mfa_session = call(
        service, *key, {"Action": "GetSessionToken", "SerialNumber": serial, "TokenCode": following}
    )
    assert mfa_session.status == 200, mfa_session.body
    creds = credentials_of(mfa_session.body)
    carried = call(
        service, creds["AccessKeyId"], creds["SecretAccessKey"], base, creds["SessionToken"]
    )
    assert carried.status == 200, carried.body
    plain = credentials_of(call(service, *key, {"Action": "GetSessionToken"}).body)
    without = call(
        service, plain["AccessKeyId"], plain["SecretAccessKey"], base, plain["SessionToken"]
    )
    assert code_of(without) == "AccessDenied"


def test_device_seed_is_not_stored(setup, tmp_path) -> None:
    service, _key, serial, totp = setup
    device = service.mfa.store.get(serial)
    assert device is not None and device.user == "svc-app" and device.account == HOME
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("broker.db*"))  # with the WAL
    assert serial.encode() in stored and totp.secret.encode() not in stored
    assert (tmp_path / "broker.db").stat().st_mode & 0o777 == 0o600
    assert not (tmp_path / "sts" / "mfa-devices.json").exists()


def test_codes_never_reach_the_answer_or_the_audit_log(setup) -> None:
    service, key, serial, totp = setup
    valid, malformed = totp.at(MOMENT), "12ab5x"
    wrong = f"{(int(valid) + 500_000) % 1_000_000:06d}"
    answers = [
        call(service, *key, {"Action": "GetSessionToken", "SerialNumber": serial, "TokenCode": c})
        for c in (malformed, wrong, valid)
    ]
    assert [code_of(a) for a in answers] == ["ValidationError", "AccessDenied", "ok"]
    logged = json.dumps(list(service.audit.records()), separators=(",", ":"))
    for code in (malformed, wrong, valid):
        assert code not in logged
        assert all(code not in a.body for a in answers[:2])
    assert serial in logged  # the device is still named
