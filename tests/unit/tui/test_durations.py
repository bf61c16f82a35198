import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from broker.tui.durations import (
    Ceiling,
    ceiling_for,
    check_duration,
    format_duration,
    parse_duration,
    presets_under,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("2h30m", 9000), ("90m", 5400), ("1h", 3600), ("45m 30s", 2730), (" 36H ", 129600)],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "2", "2x", "h", "1h1h", "1.5h", "-1h", "1h and 2m"])
def test_parse_duration_rejects_with_the_expected_form(text: str) -> None:
    with pytest.raises(ValueError, match="2h30m"):
        parse_duration(text)


@settings(max_examples=60)
@given(st.integers(min_value=0, max_value=40), st.integers(min_value=0, max_value=59))
def test_format_and_parse_round_trip(hours: int, minutes: int) -> None:
    seconds = hours * 3600 + minutes * 60
    if seconds:
        assert parse_duration(format_duration(seconds)) == seconds


def test_ceiling_names_the_tightest_limit() -> None:
    assert str(ceiling_for(role_max_seconds=12 * 3600)) == "max 12h (role MaxSessionDuration)"
    assert str(ceiling_for(role_max_seconds=None)) == "max 36h (GetSessionToken)"
    assert str(ceiling_for(role_max_seconds=12 * 3600, chained=True)) == "max 1h (role chaining)"
    assert (
        str(ceiling_for(role_max_seconds=12 * 3600, policy_limit=(4 * 3600, "prod")))
        == "max 4h (policy: prod)"
    )
    # a looser policy limit does not loosen the role's own maximum
    assert ceiling_for(role_max_seconds=3600, policy_limit=(4 * 3600, "prod")).seconds == 3600


def test_check_duration_refuses_instead_of_clamping() -> None:
    ceiling = Ceiling(12 * 3600, "role MaxSessionDuration")
    assert check_duration(3600, ceiling) is None
    assert check_duration(900, ceiling) is None
    below = check_duration(600, ceiling)
    assert below is not None and "15m minimum" in below
    over = check_duration(13 * 3600, ceiling)
    assert (
        over is not None and "max 12h (role MaxSessionDuration)" in over and "12h or less" in over
    )


def test_presets_over_the_ceiling_stay_visible_but_disabled() -> None:
    presets = presets_under(Ceiling(4 * 3600, "policy: prod"))
    assert [p.label for p in presets] == ["15m", "1h", "4h", "8h", "12h", "36h"]
    assert [p.enabled for p in presets] == [True, True, True, False, False, False]
    assert presets[3].reason == "over max 4h (policy: prod)"
