"""Virtual MFA devices (RFC 6238 TOTP) for directory users' long-term keys.

The device list lives in the shared-state database (``broker.storage.sts_mfa_devices``: the
embedded SQLite, or PostgreSQL shared by replicas), so a device enabled through any host is
known to every replica. The seed is never stored: it is an HMAC, under the key ring's user-key
secret (shared by replicas as the long-term keys' secrets are), of the device's serial
(``arn:aws:iam::ACCT:mfa/USER``) and a random per-enrolment nonce kept in the row; it is shown
once when the device is enabled, as an ``otpauth://`` URI. Codes are checked by the one TOTP
core (``broker.totp``): ±1 step, and each step once per device across every worker and replica.

The device list used to be a file (``<data>/sts/mfa-devices.json``): it is moved into the
database once, with the other files of that layout (``broker.sts.legacy_files``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from broker import totp
from broker.errors import StsError, UsageError
from broker.storage.sts_mfa_devices import SqlStsMfaDevices, StsMfaDevice
from broker.sts.access_keys import check_user_and_account
from broker.sts.signing_keys import KeyRing, KeyRingSource

if TYPE_CHECKING:
    from broker.audit.sink import AuditSink

__all__ = ["MfaDevices", "mfa_serial"]

_INVALID = "MultiFactorAuthentication failed with invalid MFA one time pass code."


def mfa_serial(account: str, user: str) -> str:
    return f"arn:aws:iam::{account}:mfa/{user}"


def _denied() -> StsError:
    return StsError(_INVALID, code="AccessDenied")


def _audited(
    audit: AuditSink | None, event: str, serial: str, user: str, change: Callable[[], bool]
) -> bool:
    """Run an administrator's device change, audited first with ``audit`` (as IAM's CloudTrail
    records EnableMFADevice and DeactivateMFADevice): ``AuditError``, nothing changed, when the
    event cannot be written. Without ``audit`` (a test's store) the change alone."""
    if audit is None:
        return change()
    from broker.audit.admin import audited_change

    return audited_change(audit, event, {"userName": user, "serialNumber": serial}, change)


@dataclass(frozen=True)
class _Device:
    """One stored device as the TOTP core sees it (``broker.totp.TotpDevice``)."""

    devices: MfaDevices
    record: StsMfaDevice

    def seed(self) -> str:
        return self.devices.seed(self.record.serial, self.record.seed_nonce)

    def accept_step(self, step: int) -> bool:
        return self.devices.store.accept_step(self.record.serial, step)


class MfaDevices:
    """Enabled devices (shared database) plus the derivation of their seeds (key ring).

    ``clock`` (seconds since the epoch) decides which TOTP steps are current: the wall clock,
    or a test's, so a test picks the moment instead of waiting for a fresh 30 s step.
    """

    def __init__(
        self,
        ring: KeyRing | KeyRingSource,
        store: SqlStsMfaDevices,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._ring = ring
        self.store = store
        self.clock = clock

    @property
    def ring(self) -> KeyRing:
        return self._ring if isinstance(self._ring, KeyRing) else self._ring.current()

    def seed(self, serial: str, nonce: str = "") -> str:
        """The base32 seed of ``serial``; ``nonce`` empty for devices enabled before nonces."""
        message = b"mfa\x00" + serial.encode() + (b"\x00" + nonce.encode() if nonce else b"")
        digest = hmac.new(self.ring.user_key_secret, message, hashlib.sha256).digest()
        return base64.b32encode(digest[:20]).decode()

    def enable(self, account: str, user: str, *, audit: AuditSink | None = None) -> tuple[str, str]:
        """Enable ``user``'s device; return its serial and ``otpauth://`` URI (shown once).
        With ``audit`` (the commands pass the deployment's log) the change is audited first.

        Raises:
            UsageError: a malformed user or account, or the device is already enabled.
            AuditError: the audit log cannot be written; nothing was enabled.
        """
        check_user_and_account(user, account)
        serial, nonce = mfa_serial(account, user), secrets.token_hex(16)
        already = UsageError(
            f"{serial} is already enabled; `broker access-keys mfa-disable {user} "
            f"--account {account}` first to enrol a new authenticator"
        )
        if self.store.get(serial) is not None:
            raise already

        def add() -> bool:
            if not self.store.add(serial, user, account, nonce):
                raise already  # enabled by another meanwhile: recorded as this call's outcome
            return True

        _audited(audit, "EnableMFADevice", serial, user, add)
        uri = totp.provisioning_uri(self.seed(serial, nonce), user)
        return serial, uri

    def disable(self, account: str, user: str, *, audit: AuditSink | None = None) -> str:
        """Remove ``user``'s device (a later ``enable`` derives a new seed); its serial.
        With ``audit`` the change is audited first (``AuditError``: nothing was removed)."""
        check_user_and_account(user, account)
        serial = mfa_serial(account, user)
        if self.store.get(serial) is None:
            raise UsageError(f"{serial} is not enabled")

        def remove() -> bool:
            if not self.store.remove(serial):
                raise UsageError(f"{serial} is not enabled")  # removed by another meanwhile
            return True

        _audited(audit, "DeactivateMFADevice", serial, user, remove)
        return serial

    def verify(self, account: str, user: str, serial: str | None, code: str | None) -> bool:
        """True when the request's ``SerialNumber`` and ``TokenCode`` are a valid, unused code
        for the device of ``user`` in ``account`` (a user of the same name in another account
        is another principal); False when it carries neither; ``StsError(AccessDenied)`` for a
        wrong, stale or used one."""
        if serial is None and code is None:
            return False
        if serial is None or code is None:
            raise _denied()
        if not (len(code) == 6 and code.isascii() and code.isdigit()):
            # STS's wording, without echoing the value: a code is a (short-lived) secret
            raise StsError(
                "1 validation error detected: Value at 'tokenCode' failed to satisfy "
                "constraint: Member must be 6 digits, pattern [\\d]*",
                code="ValidationError",
            )
        record = self.store.get(serial)
        if record is None or (record.account, record.user) != (account, user):
            raise _denied()
        if not totp.verify(_Device(self, record), code, now=self.clock()):
            raise _denied()
        return True
