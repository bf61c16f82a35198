"""TOTP MFA devices (RFC 6238) for directory users: enrol, verify a code, remove.

The seed is a secret: it is shown once (as an ``otpauth://`` URI and its QR code) and kept only
in the OS keyring (``MfaSecrets``); SQLite records that the device exists, when it was made,
and the last time step accepted, so a code is never accepted twice (RFC 6238 §5.2).
``aws:MultiFactorAuthPresent`` is true only for sessions created with a code that passed
``verify_code`` (or from an IdP sign-in whose claims prove MFA, which ``Claims.mfa`` carries).
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass, field
from typing import Protocol

from broker.directory.directory import Directory
from broker.errors import DirectoryError

__all__ = [
    "ISSUER",
    "Enrollment",
    "MfaSecrets",
    "disable_mfa",
    "enable_mfa",
    "qr_text",
    "secret_key",
    "verify_code",
]

ISSUER = "Access Broker"
STEP = 30


class MfaSecrets(Protocol):
    """Where TOTP seeds live: the OS keyring (``broker.directory.keyring_store``)."""

    def get_secret(self, key: str) -> str | None: ...

    def set_secret(self, key: str, value: str) -> None: ...

    def delete_secret(self, key: str) -> None: ...


@dataclass(frozen=True)
class Enrollment:
    """A new device; ``secret`` and ``uri`` are shown once, never stored outside the keyring."""

    user: str
    device: str
    secret: str = field(repr=False)
    uri: str = field(repr=False)


def secret_key(user: str, device: str) -> str:
    return f"mfa/{user}/{device}"


def enable_mfa(
    directory: Directory,
    secrets: MfaSecrets,
    user: str,
    device: str = "totp",
    *,
    replace: bool = False,
) -> Enrollment:
    """Create a TOTP seed for ``user``, store it in the keyring and record the device.

    Raises:
        DirectoryError: unknown user, or the device exists and ``replace`` is False.
    """
    import pyotp

    account = directory.user(user)
    if device in directory.mfa_devices(user) and not replace:
        raise DirectoryError(
            f"{user} already has MFA device {device!r}; pass --replace to re-enrol it"
        )
    seed = pyotp.random_base32(length=32)  # 160 bits, RFC 4226's recommended seed size
    secrets.set_secret(secret_key(user, device), seed)
    directory.add_mfa_device(user, device)
    uri = pyotp.TOTP(seed).provisioning_uri(name=account.email or user, issuer_name=ISSUER)
    return Enrollment(user, device, seed, uri)


def verify_code(
    directory: Directory,
    secrets: MfaSecrets,
    user: str,
    code: str,
    device: str = "totp",
    *,
    now: float | None = None,
) -> bool:
    """Whether ``code`` is a fresh, valid TOTP for the device (±1 step of clock skew).

    A step once accepted (or any earlier one) is refused afterwards: no replay.
    """
    import pyotp

    if device not in directory.mfa_devices(user):
        raise DirectoryError(
            f"{user} has no MFA device {device!r}; run `broker directory mfa enable {user}`"
        )
    seed = secrets.get_secret(secret_key(user, device))
    if seed is None:
        raise DirectoryError(
            f"the keyring has no seed for {user}'s MFA device; re-enrol with --replace"
        )
    moment = time.time() if now is None else now
    totp = pyotp.TOTP(seed)
    for offset in (0, -1, 1):
        step = int(moment // STEP) + offset
        if hmac.compare_digest(totp.at(step * STEP), code.strip()):
            return directory.set_mfa_last_step(user, device, step)
    return False


def disable_mfa(directory: Directory, secrets: MfaSecrets, user: str, device: str = "totp") -> None:
    directory.user(user)
    if device not in directory.mfa_devices(user):
        raise DirectoryError(f"{user} has no MFA device {device!r}")
    secrets.delete_secret(secret_key(user, device))
    directory.remove_mfa_device(user, device)


def qr_text(uri: str) -> str:
    """The QR code of ``uri`` drawn with Unicode half blocks for a terminal."""
    import io

    import segno

    out = io.StringIO()
    segno.make(uri, error="m").terminal(out=out, compact=True)
    return out.getvalue()
