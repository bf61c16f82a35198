"""When cached credentials are *fresh*: handed out as they are, without minting.

One rule for the chain (``broker.client.chain``) and the ``credential-process`` fast path
(``broker.client.process``), so the two never disagree; this module imports nothing, so the
fast path can use it for free.

Why these numbers: botocore re-runs ``credential_process`` once the credentials it holds have
less than 15 minutes left (its *advisory* refresh; a failure there is tolerated) and insists on
new ones below 10 minutes (*mandatory*: credentials still inside it are an error). So:

- a credential of 40 minutes or more is fresh until 20 minutes before expiry: botocore never
  asks for it again while it is cached, and when it does ask (inside 15 minutes) it gets a new
  one;
- a shorter one is fresh until half its lifetime, but never inside 11 minutes (botocore's
  mandatory window plus a minute for clocks and the call itself). A 15-minute credential sits
  inside botocore's advisory window from birth, so botocore asks on every use; each ask is a
  cache hit for the first 4 minutes, then one mint gives a new 15-minute credential.
"""

from __future__ import annotations

__all__ = ["LONG_WINDOW_SECONDS", "SHORT_FLOOR_SECONDS", "fresh_window_seconds", "is_fresh"]

LONG_WINDOW_SECONDS = 20 * 60
SHORT_FLOOR_SECONDS = 11 * 60


def fresh_window_seconds(lifetime_seconds: int) -> int:
    """How long before expiry a credential of this lifetime stops being fresh."""
    return min(LONG_WINDOW_SECONDS, max(SHORT_FLOOR_SECONDS, lifetime_seconds // 2))


def is_fresh(seconds_left: float, lifetime_seconds: int) -> bool:
    """True while a credential of ``lifetime_seconds`` with ``seconds_left`` may be served."""
    return seconds_left > fresh_window_seconds(lifetime_seconds)
