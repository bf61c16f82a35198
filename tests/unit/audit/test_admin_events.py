"""``audited_change``: an administrator's change is audited before it is made, an audit that
cannot be written stops it, and a change that fails after its event is recorded as failed."""

from __future__ import annotations

import getpass
import os
import socket
from pathlib import Path

import pytest

from broker.audit.admin import admin_identity, audited_change
from broker.errors import AuditError, DirectoryError
from tests.state_support import audit_events, break_audit_chain, embedded_state


def test_the_event_is_in_the_chain_before_the_change_runs(tmp_path: Path) -> None:
    audit = embedded_state(tmp_path).shared.audit
    seen: list[list[str]] = []

    def change() -> str:
        seen.append([e["eventName"] for e in audit_events(tmp_path)])
        return "done"

    assert audited_change(audit, "EnableMFADevice", {"userName": "ivy"}, change) == "done"
    assert seen == [["EnableMFADevice"]]
    (event,) = audit_events(tmp_path)
    assert event["eventType"] == "BrokerAdminCall" and event["eventSource"] == "broker.local"
    assert event["requestParameters"] == {"userName": "ivy"}
    assert "errorCode" not in event
    assert embedded_state(tmp_path).shared.audit.verify().ok


def test_an_unwritable_audit_runs_no_change(tmp_path: Path) -> None:
    audit = embedded_state(tmp_path).shared.audit
    break_audit_chain(tmp_path)
    ran: list[bool] = []
    with pytest.raises(AuditError):
        audited_change(audit, "DeactivateMFADevice", {"userName": "ivy"}, lambda: ran.append(True))
    assert ran == []


def test_a_change_failing_after_its_event_is_recorded_as_failed(tmp_path: Path) -> None:
    audit = embedded_state(tmp_path).shared.audit

    def change() -> None:
        raise DirectoryError("the keyring refused the seed")

    with pytest.raises(DirectoryError, match="keyring refused"):
        audited_change(audit, "EnableMFADevice", {"userName": "ivy"}, change)
    intent, failed = audit_events(tmp_path)
    assert intent["requestID"] == failed["requestID"]
    assert "errorCode" not in intent
    assert failed["errorCode"] == "DirectoryError"
    assert failed["errorMessage"] == "the keyring refused the seed"
    assert failed["requestParameters"] == intent["requestParameters"]


def test_the_identity_names_the_os_account_and_host_never_an_iam_user() -> None:
    identity = admin_identity()
    assert identity["type"] == "BrokerAdmin"
    if hasattr(os, "getuid"):
        import pwd

        assert identity["osUser"] == pwd.getpwuid(os.getuid()).pw_name
    else:
        assert identity["osUser"] == getpass.getuser()
    assert identity["host"] == socket.gethostname()
    assert identity["principalId"] == f"{identity['osUser']}@{identity['host']}"
    assert "userName" not in identity  # `audit query --user` and reports mean directory users
