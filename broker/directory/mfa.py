"""TOTP MFA devices (RFC 6238) for directory users: enrol, verify a code, remove.

The seed is a secret: it is shown once (as an ``otpauth://`` URI and its QR code) and kept only
in the OS keyring (``MfaSecrets``); the runtime state (``Directory.runtime``: the directory's
SQLite, or the shared database for replicas) records that the device exists, when it was made,
and the last time step accepted. Codes are checked by the one TOTP core (``broker.totp``), the
same as service users' virtual devices: ±1 step, each step once (RFC 6238 §5.2).
``aws:MultiFactorAuthPresent`` is true only for sessions created with a code that passed
``verify_code`` (or from an IdP sign-in whose claims prove MFA, which ``Claims.mfa`` carries).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from broker import totp
from broker.directory.directory import Directory
from broker.errors import DirectoryError

__all__ = [
    "ISSUER",
    "Enrollment",
    "MfaSecrets",
    "check_disable",
    "check_enable",
    "disable_mfa",
    "enable_mfa",
    "qr_text",
    "secret_key",
    "verify_code",
]

ISSUER = totp.ISSUER


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


def check_enable(directory: Directory, user: str, device: str, *, replace: bool) -> bool:
    """Whether enrolling ``device`` for ``user`` replaces one (refusals raise, nothing changed).

    Raises:
        DirectoryError: unknown user, or the device exists and ``replace`` is False.
    """
    directory.user(user)
    exists = device in directory.mfa_devices(user)
    if exists and not replace:
        raise DirectoryError(
            f"{user} already has MFA device {device!r}; pass --replace to re-enrol it"
        )
    return exists


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
        DirectoryError: as ``check_enable``.
    """
    check_enable(directory, user, device, replace=replace)
    account = directory.user(user)
    seed = totp.new_seed()
    secrets.set_secret(secret_key(user, device), seed)
    directory.add_mfa_device(user, device)
    uri = totp.provisioning_uri(seed, account.email or user)
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
    if device not in directory.mfa_devices(user):
        raise DirectoryError(
            f"{user} has no MFA device {device!r}; run `broker directory mfa enable {user}`"
        )
    seed = secrets.get_secret(secret_key(user, device))
    if seed is None:
        raise DirectoryError(
            f"the keyring has no seed for {user}'s MFA device; re-enrol with --replace"
        )
    return totp.verify(_KeyringDevice(directory, user, device, seed), code.strip(), now=now)


@dataclass(frozen=True)
class _KeyringDevice:
    """A directory user's device as the TOTP core sees it (``broker.totp.TotpDevice``)."""

    directory: Directory
    user: str
    device: str
    secret: str = field(repr=False)

    def seed(self) -> str:
        return self.secret

    def accept_step(self, step: int) -> bool:
        return self.directory.set_mfa_last_step(self.user, self.device, step)


def check_disable(directory: Directory, user: str, device: str) -> None:
    """Refuse removing a device ``user`` does not have (``DirectoryError``, nothing changed)."""
    directory.user(user)
    if device not in directory.mfa_devices(user):
        raise DirectoryError(f"{user} has no MFA device {device!r}")


def disable_mfa(directory: Directory, secrets: MfaSecrets, user: str, device: str = "totp") -> None:
    check_disable(directory, user, device)
    secrets.delete_secret(secret_key(user, device))
    directory.remove_mfa_device(user, device)


def qr_text(uri: str) -> str:
    """The QR code of ``uri`` drawn with Unicode half blocks for a terminal."""
    import io

    import segno

    out = io.StringIO()
    segno.make(uri, error="m").terminal(out=out, compact=True)
    return out.getvalue()
