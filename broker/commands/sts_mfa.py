"""``broker access-keys mfa-enable|mfa-disable|mfa-list``: service users' virtual MFA devices.

The devices live in the one state database (PostgreSQL when configured, else the embedded
SQLite in the data directory), so a device enabled on one host is known to every replica.
Enabling and disabling are audited first (``EnableMFADevice`` / ``DeactivateMFADevice``), as
revocations are: no audit, no change.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TextIO

if TYPE_CHECKING:
    from broker.audit.sink import AuditSink
    from broker.sts.mfa import MfaDevices

__all__ = ["MfaDeviceInput", "register_mfa_devices", "run_mfa_devices"]

Action = Literal["enable", "disable", "list"]


@dataclass(frozen=True)
class MfaDeviceInput:
    action: Action
    user: str
    account: str | None = None


@contextmanager
def _devices() -> Iterator[tuple[MfaDevices, AuditSink]]:
    """The device store of this deployment, with the key ring its seeds are derived from, and
    the audit chain its changes go to (the same state ``broker serve`` uses)."""
    from broker.commands.opened_state import opened_state

    with opened_state() as state:
        yield state.mfa_devices(), state.shared.audit


def run_mfa_devices(spec: MfaDeviceInput, out: TextIO) -> int:
    """Enable (URI shown once), disable or list ``spec.user``'s virtual MFA devices."""
    with _devices() as (devices, audit):
        if spec.action == "list":
            for device in devices.store.for_user(spec.user):
                print(f"{device.serial}\t{device.created.isoformat()}", file=out)
            return 0
        assert spec.account is not None
        if spec.action == "disable":
            serial = devices.disable(spec.account, spec.user, audit=audit)
            print(f"broker: {serial} disabled", file=sys.stderr)
            return 0
        serial, uri = devices.enable(spec.account, spec.user, audit=audit)
    print(f"{serial}\t{uri}", file=out)
    print("broker: add the URI to an authenticator app now; it is shown only once", file=sys.stderr)
    return 0


def register_mfa_devices(actions: Any) -> None:
    """Add the ``mfa-*`` actions under ``broker access-keys``."""
    for name, summary in (
        ("enable", "a virtual MFA device for USER (TOTP URI shown once)"),
        ("disable", "remove USER's virtual MFA device (enable again for a new seed)"),
        ("list", "USER's virtual MFA devices (serial, created)"),
    ):
        parser = actions.add_parser(f"mfa-{name}", help=summary)
        parser.add_argument("user")
        if name != "list":
            parser.add_argument("--account", required=True, help="the user's 12-digit account id")
        parser.set_defaults(
            handler=lambda a, name=name: run_mfa_devices(
                MfaDeviceInput(name, a.user, getattr(a, "account", None)), sys.stdout
            )
        )
