"""The one TOTP core (RFC 6238): window, format, replay and a missing seed."""

from __future__ import annotations

from dataclasses import dataclass

import pyotp
from hypothesis import given, settings
from hypothesis import strategies as st

from broker import totp

SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = 1_800_000_015.0  # mid-step
STEP = int(NOW // 30)


@dataclass
class Ledger:
    """A device as the core sees it, its last step kept in memory (the stores keep it in SQL,
    tested in tests/unit/storage and tests/integration)."""

    secret: str | None = SEED
    last: int | None = None

    def seed(self) -> str | None:
        return self.secret

    def accept_step(self, step: int) -> bool:
        if self.last is not None and step <= self.last:
            return False
        self.last = step
        return True


def code_at(step: int) -> str:
    return pyotp.TOTP(SEED).at(step * 30)


def test_codes_of_the_current_and_adjacent_steps_match_and_no_further() -> None:
    for offset in (-1, 0, 1):
        assert totp.matching_step(SEED, code_at(STEP + offset), NOW) == STEP + offset
    for offset in (-3, -2, 2, 3):
        assert totp.matching_step(SEED, code_at(STEP + offset), NOW) is None


def test_a_code_is_accepted_once_and_an_older_one_never_after_a_newer() -> None:
    device = Ledger()
    assert totp.verify(device, code_at(STEP), now=NOW)
    assert not totp.verify(device, code_at(STEP), now=NOW)  # replay
    assert not totp.verify(device, code_at(STEP - 1), now=NOW)  # older, though in the window
    assert totp.verify(device, code_at(STEP + 1), now=NOW)  # ahead, not yet used
    assert device.last == STEP + 1


def test_malformed_codes_and_missing_seeds_are_refused_without_touching_the_ledger() -> None:
    device = Ledger()
    good = code_at(STEP)
    for bad in ("", good[:5], good + "0", f" {good[1:]}", "12345a", "１２３４５６"):
        assert not totp.verify(device, bad, now=NOW)
    assert device.last is None
    assert not totp.verify(Ledger(secret=None), good, now=NOW)


def test_new_seeds_are_160_bit_and_differ() -> None:
    import base64

    first, second = totp.new_seed(), totp.new_seed()
    assert len(base64.b32decode(first)) == 20 and first != second


def test_provisioning_uri_carries_seed_name_and_issuer() -> None:
    uri = totp.provisioning_uri(SEED, "alice@example.com")
    parsed = pyotp.parse_uri(uri)
    assert parsed.secret == SEED and parsed.issuer == totp.ISSUER
    assert parsed.name == "alice@example.com"


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=999_999), st.integers(min_value=-5, max_value=5))
def test_any_code_matches_only_a_step_whose_code_it_is(number: int, shift: int) -> None:
    code = f"{number:06d}"
    now = NOW + shift * 30
    step = totp.matching_step(SEED, code, now)
    current = int(now // 30)
    if step is None:
        assert all(code_at(s) != code for s in (current - 1, current, current + 1))
    else:
        assert abs(step - current) <= 1 and code_at(step) == code
