"""TOTP codes chosen for a moment, for tests of a real process whose clock cannot be set.

Why: the STS accepts a code of the current 30 s step or one step either side, and each step of
a device once (``broker.totp``). Tests used to wait for a fresh step before typing a code, or for
the next step before typing a second one: up to 30 s of sleeping per code. A code for the
current step stays acceptable for at least 30 s, and the next step's code is acceptable at
once, so a test can pick codes instead of waiting for them.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pyotp

from broker.totp import STEP, WINDOW

__all__ = ["UnusedCodes"]


class UnusedCodes:
    """Codes of one device, each for a later step than the one before and inside the
    verifier's window of now, so each is accepted once by a verifier on the same clock."""

    def __init__(self, device: pyotp.TOTP, clock: Callable[[], float] = time.time) -> None:
        self.device = device
        self.clock = clock
        self.last: int | None = None

    def next(self) -> str:
        current = int(self.clock() // STEP)
        step = current if self.last is None else max(current, self.last + 1)
        if step > current + WINDOW:
            raise AssertionError(
                "more codes than steps inside the window: give the verifier a clock instead"
            )
        self.last = step
        return str(self.device.at(step * STEP))
