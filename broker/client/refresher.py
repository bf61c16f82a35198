"""``broker refresh [--watch]``: keep every signed-in profile fresh, headlessly.

Each round re-mints the profiles (from the index) whose credentials are inside the refresh
window, through the same chain as ``credential-process`` (so the same locks: a refresher and
a burst of helpers still cause one mint). Never prompts. A profile whose IdP session is gone
(``invalid_grant``, no session) is stopped and reported once, and resumes by itself after
the next ``broker login`` to its provider; transient failures back off
exponentially (30 s doubling to 15 min) and keep the stored credentials. Wake-ups are spread
with jitter so many machines do not hit the IdP together.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from broker.client.chain import REFRESH_WINDOW, Chain
from broker.client.profiles import Profile
from broker.errors import (
    BrokerError,
    ConfigError,
    ReauthenticationRequired,
    SignInAgain,
    StateStoreUnavailableError,
)

__all__ = ["Outcome", "Refresher"]

MIN_SLEEP = timedelta(seconds=30)
MAX_BACKOFF = timedelta(minutes=15)


@dataclass(frozen=True)
class Outcome:
    """What happened to one profile in one round."""

    profile: str
    status: str  # "fresh" | "refreshed" | "stopped" | "retrying"
    message: str
    expiration: datetime | None = None
    sign_in: SignInAgain | None = None  # the failure's fix, when it is a new sign-in


@dataclass
class Refresher:
    """The refresh loop's state: which profiles are stopped, and each one's back-off.

    Args:
        chain: the credential chain (store, minter, providers).
        profiles: the configured profiles to consider (only those in the index are refreshed).
        report: called with each line worth telling (stopped / retrying / refreshed).
        rng: randomness for jitter.
        state_round: what each round runs inside: the front end's ``StateHandle.round``, so
            the state a round opens is closed when it ends and the next round opens it afresh
            (no database connection idles while the loop sleeps).
    """

    chain: Chain
    profiles: Sequence[Profile]
    report: Callable[[str], None]
    rng: random.Random = field(default_factory=random.Random)
    stopped: dict[str, datetime] = field(default_factory=dict)  # profile -> when
    backoff: dict[str, timedelta] = field(default_factory=dict)
    retry_at: dict[str, datetime] = field(default_factory=dict)
    state_round: Callable[[], AbstractContextManager[None]] = nullcontext

    def round(self) -> list[Outcome]:
        """Refresh what is due once; returns one outcome per signed-in profile.

        A stopped profile resumes by itself once its provider is signed in to again.
        """
        with self.state_round():
            return self._round()

    def _round(self) -> list[Outcome]:
        index = self.chain.store.read_index()
        cached = index.profiles
        outcomes: list[Outcome] = []
        now = self.chain.now()
        for name, when in list(self.stopped.items()):
            profile_row = cached.get(name)
            session = index.sessions.get(profile_row.provider) if profile_row else None
            if session is not None and session.signed_in_at > when:
                del self.stopped[name]
                self.report(f"{name}: signed in again; resuming")
        for profile in self.profiles:
            if profile.name not in cached or profile.name in self.stopped:
                continue
            if self.retry_at.get(profile.name, now) > now:
                continue
            outcomes.append(self._one(profile))
        return outcomes

    def _one(self, profile: Profile) -> Outcome:
        try:
            before = self.chain.servable(profile)  # a revoked session is never "still fresh"
        except StateStoreUnavailableError as exc:  # asking the revocation rules
            return self._retry_later(profile, exc)
        if before is not None:
            return Outcome(profile.name, "fresh", "still fresh", before.expiration)
        try:
            credentials = self.chain.credentials(profile, ride_out_outage=False)
        except ReauthenticationRequired as exc:
            self.stopped[profile.name] = datetime.now(UTC)
            line = f"{profile.name}: stopped refreshing: {exc}"
            self.report(line)
            return Outcome(profile.name, "stopped", str(exc), sign_in=exc.sign_in)
        except StateStoreUnavailableError as exc:
            # The database is down or restarting: transient, retried with back-off like an
            # unreachable IdP (the next round opens the state afresh).
            return self._retry_later(profile, exc)
        except ConfigError:
            raise
        except BrokerError as exc:
            return self._retry_later(profile, exc)
        self.backoff.pop(profile.name, None)
        self.retry_at.pop(profile.name, None)
        self.report(f"{profile.name}: refreshed, valid until {credentials.expiration:%H:%M:%SZ}")
        return Outcome(profile.name, "refreshed", "refreshed", credentials.expiration)

    def _retry_later(self, profile: Profile, exc: BrokerError) -> Outcome:
        delay = min(self.backoff.get(profile.name, MIN_SLEEP / 2) * 2, MAX_BACKOFF)
        self.backoff[profile.name] = delay
        self.retry_at[profile.name] = self.chain.now() + delay
        seconds = int(delay.total_seconds())
        self.report(f"{profile.name}: refresh failed ({exc}); retrying in {seconds} s")
        return Outcome(profile.name, "retrying", str(exc), sign_in=exc.sign_in)

    def next_wake(self, outcomes: Sequence[Outcome]) -> timedelta:
        """How long to sleep: until the earliest profile enters its window, with jitter."""
        now = self.chain.now()
        due: list[datetime] = [when for when in self.retry_at.values()]
        for outcome in outcomes:
            if outcome.expiration is not None:
                due.append(outcome.expiration - REFRESH_WINDOW)
        wait = min((when - now for when in due), default=MAX_BACKOFF)
        wait = max(MIN_SLEEP, min(wait, MAX_BACKOFF))
        jitter = wait.total_seconds() * 0.1 * self.rng.random()
        return wait - timedelta(seconds=jitter) if wait > MIN_SLEEP else wait
