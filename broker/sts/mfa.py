"""Virtual MFA devices (RFC 6238 TOTP, via pyotp) for directory users' long-term keys.

The device seed is never stored: it is an HMAC, under the key ring's user-key secret, of the
device's serial (``arn:aws:iam::ACCT:mfa/USER``), shown once when the device is enabled (as an
``otpauth://`` URI for an authenticator app). The record file lists only which serials are
enabled and for whom. A code is accepted once: a replayed code in the same window is refused —
by every worker and replica when given the shared replay cache (``broker.storage``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from broker.errors import ConfigError, StsError, UsageError
from broker.private_files import PrivateFiles
from broker.sts.signing_keys import KeyRing
from providers.base import ReplayCache

__all__ = ["MfaDevices", "mfa_serial"]

_files = PrivateFiles(ConfigError)

_INVALID = "MultiFactorAuthentication failed with invalid MFA one time pass code."


def mfa_serial(account: str, user: str) -> str:
    return f"arn:aws:iam::{account}:mfa/{user}"


class MfaDevices:
    """Enabled devices (file) plus the derivation of their seeds (key ring)."""

    def __init__(self, ring: KeyRing, path: Path, replay: ReplayCache | None = None) -> None:
        self.ring = ring
        self.path = path
        self.replay = replay  # shared by workers and replicas; else this process only
        self._used: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def seed(self, serial: str) -> str:
        digest = hmac.new(self.ring.user_key_secret, b"mfa\x00" + serial.encode(), hashlib.sha256)
        return base64.b32encode(digest.digest()[:20]).decode()

    def enable(self, account: str, user: str) -> tuple[str, str]:
        """Enable ``user``'s device; return its serial and ``otpauth://`` URI (shown once)."""
        import pyotp

        serial = mfa_serial(account, user)
        with _files.locked(self.path):
            devices: dict[str, str] = _files.read_json(self.path, {})
            if serial in devices:
                raise UsageError(f"{serial} is already enabled")
            _files.write_json(self.path, {**devices, serial: user})
        uri = pyotp.TOTP(self.seed(serial)).provisioning_uri(name=user, issuer_name="access-broker")
        return serial, uri

    def verify(self, user: str, params: Mapping[str, str]) -> bool:
        """True when the request carries a valid, unused code for ``user``'s device; False when
        it carries none; ``StsError(AccessDenied)`` when it carries a wrong one."""
        import pyotp

        serial, code = params.get("SerialNumber"), params.get("TokenCode")
        if serial is None and code is None:
            return False
        devices: dict[str, str] = _files.read_json(self.path, {})
        if serial is None or code is None or devices.get(serial) != user:
            raise StsError(_INVALID, code="AccessDenied")
        if not (len(code) == 6 and code.isdigit()):
            raise StsError(
                f"1 validation error detected: Value '{code}' at 'tokenCode' failed to satisfy "
                "constraint: Member must satisfy regular expression pattern: [\\d]*",
                code="ValidationError",
            )
        now = time.time()
        if not pyotp.TOTP(self.seed(serial)).verify(code, for_time=now, valid_window=1):
            raise StsError(_INVALID, code="AccessDenied")
        if self.replay is not None:
            until = datetime.fromtimestamp(now + 90, UTC)
            if not self.replay.add_once("sts-mfa", f"{serial}\n{code}", until):
                raise StsError(_INVALID, code="AccessDenied")
            return True
        with self._lock:
            self._used = {k: v for k, v in self._used.items() if v > now}
            if (serial, code) in self._used:
                raise StsError(_INVALID, code="AccessDenied")
            self._used[(serial, code)] = now + 90
        return True
