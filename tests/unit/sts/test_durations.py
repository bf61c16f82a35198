"""STS duration rules: bounds, role maximum, chaining, root, IdP session; never clamped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from broker.errors import StsError
from broker.sts.durations import DurationRequest, session_expiry

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def seconds(**kwargs) -> int:
    return int((session_expiry(DurationRequest(**kwargs), NOW) - NOW).total_seconds())


def refused(**kwargs) -> str:
    with pytest.raises(StsError) as err:
        session_expiry(DurationRequest(**kwargs), NOW)
    assert err.value.code == "ValidationError"
    return err.value.message


@pytest.mark.parametrize("op", ["GetSessionToken", "GetFederationToken"])
def test_session_and_federation_tokens_span_900_to_129600(op) -> None:
    assert seconds(operation=op, requested=900) == 900
    assert seconds(operation=op, requested=129_600) == 129_600
    assert seconds(operation=op, requested=None) == 43_200
    assert refused(operation=op, requested=899) == (
        "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy "
        "constraint: Member must have value greater than or equal to 900"
    )
    assert refused(operation=op, requested=129_601).endswith("less than or equal to 129600")


@pytest.mark.parametrize("op", ["AssumeRole", "AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"])
def test_assume_role_defaults_to_1h_and_stops_at_the_role_maximum(op) -> None:
    assert seconds(operation=op, requested=None, role_max=43_200) == 3600
    assert seconds(operation=op, requested=43_200, role_max=43_200) == 43_200
    assert "MaxSessionDuration" in refused(operation=op, requested=7200, role_max=3600)
    assert refused(operation=op, requested=43_201, role_max=43_200).endswith(
        "less than or equal to 43200"
    )


def test_role_chaining_is_capped_at_one_hour() -> None:
    assert seconds(operation="AssumeRole", requested=3600, role_max=43_200, chained=True) == 3600
    assert "role chaining" in refused(
        operation="AssumeRole", requested=3601, role_max=43_200, chained=True
    )


def test_root_user_gets_one_hour() -> None:
    assert seconds(operation="GetSessionToken", requested=None, root=True) == 3600
    assert "root user" in refused(operation="GetSessionToken", requested=7200, root=True)


def test_never_beyond_the_identity_provider_session() -> None:
    end = NOW + timedelta(hours=2)
    assert (
        seconds(operation="AssumeRole", requested=None, role_max=43_200, idp_session_end=end)
        == 3600
    )
    assert "identity provider" in refused(
        operation="AssumeRole", requested=10_800, role_max=43_200, idp_session_end=end
    )
    soon = NOW + timedelta(minutes=30)
    cut = session_expiry(
        DurationRequest("AssumeRole", None, role_max=43_200, idp_session_end=soon), NOW
    )
    assert cut == soon
    assert "identity provider" in refused(
        operation="AssumeRole", requested=None, idp_session_end=NOW + timedelta(minutes=5)
    )
