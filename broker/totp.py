"""RFC 6238 TOTP verification: the one core behind every MFA device the broker keeps.

Two kinds of device use it: directory users' authenticators (``broker.directory.mfa``: a random
seed kept in the OS keyring) and the virtual devices of service users' long-term keys
(``broker.sts.mfa``: a seed derived from the key ring's secret, never stored). They differ only
in where the seed comes from and where the last accepted time step is kept, which is what
``TotpDevice`` asks of them; the window and the replay rule are decided here, once:

- a code is compared, in constant time, with the codes of the current step and one step either
  side (RFC 6238 §5.2's recommended allowance for clock drift and transmission delay);
- the step it matched must be later than the last step accepted for the device, recorded
  atomically by the device (one conditional UPDATE in a database every worker and replica
  shares), so a code is accepted once and an older one never after a newer (§5.2: "the
  verifier MUST NOT accept the second attempt of the same OTP").
"""

from __future__ import annotations

import hmac
import time
from typing import Protocol

__all__ = [
    "ISSUER",
    "STEP",
    "WINDOW",
    "TotpDevice",
    "matching_step",
    "new_seed",
    "provisioning_uri",
    "verify",
]

ISSUER = "Access Broker"  # the label authenticator apps show beside the account name
STEP = 30  # seconds per time step (RFC 6238's default X)
WINDOW = 1  # steps accepted either side of the current one
DIGITS = 6


class TotpDevice(Protocol):
    """One enrolled device, whatever keeps its seed."""

    def seed(self) -> str | None:
        """The base32 seed, or ``None`` when it cannot be found (the caller refuses)."""
        ...

    def accept_step(self, step: int) -> bool:
        """Record ``step`` as used; False if it or a later step already was (atomically)."""
        ...


def new_seed() -> str:
    """A fresh 160-bit base32 seed (RFC 4226 §4 recommends 160 bits)."""
    import pyotp

    return pyotp.random_base32(length=32)


def provisioning_uri(seed: str, name: str) -> str:
    """The ``otpauth://totp/`` URI an authenticator app enrols from (a secret: show it once)."""
    import pyotp

    return pyotp.TOTP(seed, digits=DIGITS, interval=STEP).provisioning_uri(
        name=name, issuer_name=ISSUER
    )


def matching_step(seed: str, code: str, now: float, *, window: int = WINDOW) -> int | None:
    """The time step within ``window`` of ``now`` whose code is ``code``, else ``None``.

    Every candidate is compared (no early exit on the first mismatch) so the time taken does
    not say which step, if any, was close.
    """
    import pyotp

    if not (len(code) == DIGITS and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(seed, digits=DIGITS, interval=STEP)
    current = int(now // STEP)
    found = None
    for step in range(current - window, current + window + 1):
        if hmac.compare_digest(totp.at(step * STEP), code) and found is None:
            found = step
    return found


def verify(device: TotpDevice, code: str, *, now: float | None = None) -> bool:
    """Whether ``code`` is a valid, not yet used code of ``device`` (and record it as used).

    False for a wrong, stale or replayed code, and for a device whose seed is missing.
    """
    seed = device.seed()
    if seed is None:
        return False
    step = matching_step(seed, code, time.time() if now is None else now)
    return step is not None and device.accept_step(step)
