"""``broker refresh``'s rounds and wake-ups on the chain's fast tier, with a test clock.

The refresher asks the chain's clock for "now", so its wake-up window and back-off are tested by
moving that clock: nothing here waits for time to pass.
"""

from __future__ import annotations

import dataclasses
import random
from datetime import timedelta
from pathlib import Path

from broker.client.chain import REFRESH_WINDOW
from broker.client.profiles import Profile
from broker.client.refresher import MAX_BACKOFF, MIN_SLEEP, Refresher
from broker.errors import ConfigError
from broker.minters.base import Minter
from broker.sts.state import StsState
from broker.sts.state_handle import StateHandle, open_for_one_process
from tests.chain_support import DEV, Rig


class FixedRandom(random.Random):
    """A jitter source that always draws ``value``."""

    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value


def _refresher(rig: Rig, lines: list[str], jitter: float = 0.0) -> Refresher:
    return Refresher(rig.chain(), [DEV], lines.append, rng=FixedRandom(jitter))


def test_it_wakes_when_the_earliest_profile_enters_its_window_and_refreshes_it(rig: Rig) -> None:
    first = rig.chain().credentials(DEV)
    lines: list[str] = []
    refresher = _refresher(rig, lines)
    outcomes = refresher.round()
    assert [(o.profile, o.status) for o in outcomes] == [("dev", "fresh")]
    assert refresher.next_wake(outcomes) == MAX_BACKOFF  # 40 minutes away: checks in at most

    rig.clock.at = first.expiration - REFRESH_WINDOW - timedelta(minutes=5)
    outcomes = refresher.round()
    assert [o.status for o in outcomes] == ["fresh"] and lines == []
    assert refresher.next_wake(outcomes) == timedelta(minutes=5)
    jittered = _refresher(rig, [], jitter=0.999).next_wake(outcomes)
    assert timedelta(minutes=4, seconds=30) < jittered < timedelta(minutes=5)

    rig.clock.at = first.expiration - REFRESH_WINDOW + timedelta(seconds=10)
    outcomes = refresher.round()
    assert [o.status for o in outcomes] == ["refreshed"]
    assert outcomes[0].expiration == rig.clock() + timedelta(hours=1)
    assert rig.minter.count() == 2
    assert lines == [f"dev: refreshed, valid until {outcomes[0].expiration:%H:%M:%SZ}"]
    assert refresher.next_wake(outcomes) == MAX_BACKOFF


def test_a_failing_idp_is_retried_with_doubling_back_off_by_the_clock(rig: Rig) -> None:
    rig.idp.lifetime = 30 * 60  # the sign-in ends before the credentials need refreshing
    rig.sign_in()
    first = rig.chain().credentials(DEV)
    rig.idp.down = True
    lines: list[str] = []
    refresher = _refresher(rig, lines)
    rig.clock.at = first.expiration - REFRESH_WINDOW + timedelta(seconds=1)

    assert [o.status for o in refresher.round()] == ["retrying"]
    assert lines[-1].endswith("retrying in 30 s")
    assert refresher.round() == []  # not due again yet
    assert refresher.next_wake([]) == MIN_SLEEP

    rig.clock.advance(timedelta(seconds=30))
    assert [o.status for o in refresher.round()] == ["retrying"]
    assert lines[-1].endswith("retrying in 60 s")
    rig.clock.advance(timedelta(seconds=59))
    assert refresher.round() == []

    rig.idp.down = False
    rig.clock.advance(timedelta(seconds=1))
    assert [o.status for o in refresher.round()] == ["refreshed"]
    assert refresher.backoff == {} and refresher.retry_at == {}
    assert rig.minter.count() == 2


def test_a_refused_refresh_stops_the_profile_until_the_next_sign_in(rig: Rig) -> None:
    first = rig.chain().credentials(DEV)
    rig.idp.revoked = True
    lines: list[str] = []
    refresher = _refresher(rig, lines)
    rig.clock.at = first.expiration - timedelta(minutes=2)  # the sign-in has nearly ended too

    assert [o.status for o in refresher.round()] == ["stopped"]
    assert len(lines) == 1 and "`broker login corp`" in lines[0]
    assert refresher.round() == [] and len(lines) == 1  # told once

    rig.idp.revoked = False
    rig.sign_in()
    assert [o.status for o in refresher.round()] == ["refreshed"]
    assert lines[1] == "dev: signed in again; resuming"
    assert rig.minter.count() == 2


def test_each_round_closes_the_state_and_an_outage_is_retried_until_it_is_back(
    rig: Rig, tmp_path: Path
) -> None:
    """The refresher's rounds run inside the front end's ``StateHandle.round``: a mint opens
    the state (as the local minter does) and the round closes it; when the database cannot be
    opened again, the profile backs off in one line and the round after the outage mints."""
    down = [False]

    def opener(database_url: str | None, data_dir: Path) -> StsState:
        if down[0]:
            raise ConfigError("cannot connect to the database db.example:5432/broker: refused")
        return open_for_one_process(database_url, data_dir)

    handle = StateHandle(tmp_path / "state", None, opener)
    (tmp_path / "state").mkdir()

    def minter_over_the_state(_profile: Profile) -> Minter:
        handle.state()  # as ``broker.minters.local.build_minter`` does
        return rig.minter

    chain = dataclasses.replace(rig.chain(), minter=minter_over_the_state)
    lines: list[str] = []
    refresher = Refresher(
        chain, [DEV], lines.append, rng=FixedRandom(0.0), state_round=handle.round
    )
    first = chain.credentials(DEV)  # not in a round: the state stays open until one ends
    assert handle.opened
    rig.clock.at = first.expiration - REFRESH_WINDOW + timedelta(seconds=1)
    assert [o.status for o in refresher.round()] == ["refreshed"]
    assert not handle.opened and handle.generation == 1

    rig.clock.at += timedelta(hours=1)
    down[0] = True
    outcomes = refresher.round()
    assert [o.status for o in outcomes] == ["retrying"]
    assert lines[-1].startswith("dev: refresh failed (cannot connect to the database")
    assert lines[-1].endswith("retrying in 30 s") and len(lines[-1].splitlines()) == 1
    assert not handle.opened

    down[0] = False
    rig.clock.advance(MIN_SLEEP)
    assert [o.status for o in refresher.round()] == ["refreshed"]
    assert not handle.opened and rig.minter.count() == 3
    handle.close()
