"""The freshness rule's numbers against botocore's refresh windows (15 min advisory, 10 min
mandatory)."""

from __future__ import annotations

import pytest

from broker.client.freshness import fresh_window_seconds, is_fresh

MINUTE = 60


@pytest.mark.parametrize("lifetime", range(15 * MINUTE, 36 * 3600 + 1, 5 * MINUTE))
def test_every_lifetime_is_fresh_for_a_while_and_never_inside_the_mandatory_window(
    lifetime: int,
) -> None:
    window = fresh_window_seconds(lifetime)
    assert is_fresh(lifetime, lifetime)  # a just-minted credential is served as it is
    assert window > 10 * MINUTE  # never handed out where botocore must refresh
    assert not is_fresh(window, lifetime)


@pytest.mark.parametrize("lifetime", [40 * MINUTE, 3600, 12 * 3600, 36 * 3600])
def test_long_credentials_are_reminted_before_botocore_asks_again(lifetime: int) -> None:
    # Served until 20 minutes before expiry: when botocore asks (inside 15) it gets new ones.
    assert fresh_window_seconds(lifetime) == 20 * MINUTE


def test_a_fifteen_minute_credential_is_served_for_its_first_four_minutes() -> None:
    assert is_fresh(11 * MINUTE + 1, 15 * MINUTE)
    assert not is_fresh(11 * MINUTE, 15 * MINUTE)
