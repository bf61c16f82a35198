"""Workers and replicas share one-time values: an MFA code or SAML assertion id used through
one ``StsService`` is refused by another built from the same worker settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest

from broker.server.app import WorkerSettings, service_for
from broker.server.query_api import StsService
from broker.sts.state import open_sts_state
from tests.unit.server.test_query_api import call
from tests.unit.sts.test_mfa import MOMENT, at_moment, code_of


def test_mfa_code_used_on_one_worker_is_refused_on_another(
    broker_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BROKER_DATABASE_URL", raising=False)
    workers = [
        at_moment(StsService.over(open_sts_state(None, tmp_path, pool_size=1), data=tmp_path))
        for _ in range(2)
    ]
    record, secret = workers[0].keys.create("svc-app", "111122223333")
    serial, uri = workers[0].mfa.enable("111122223333", "svc-app")
    totp = pyotp.parse_uri(uri)
    params = {"Action": "GetSessionToken", "SerialNumber": serial, "TokenCode": totp.at(MOMENT)}
    key = (record.access_key_id, secret)
    assert call(workers[0], *key, params).status == 200
    assert code_of(call(workers[1], *key, params)) == "AccessDenied"


def test_services_from_one_set_of_settings_share_assertion_ids(broker_home: Path) -> None:
    settings = WorkerSettings(data_dir=broker_home)
    first, second = service_for(settings), service_for(settings)
    expires = datetime.now(UTC) + timedelta(minutes=5)
    assert first.saml_replay_cache.add_once("saml-assertion", "_a1", expires)
    assert not second.saml_replay_cache.add_once("saml-assertion", "_a1", expires)
    assert (broker_home / "broker.db").stat().st_mode & 0o077 == 0
