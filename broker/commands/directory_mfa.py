"""``broker directory mfa ...``: TOTP devices for directory users (RFC 6238).

The seed is shown once at enrolment (QR code + otpauth URI on stdout) and kept only in the OS
keyring; messages go to stderr. Enabling and disabling change the shared state, so they are
audited first (``EnableMFADevice`` / ``DeactivateMFADevice``, a ``BrokerAdminCall`` naming the
user and device, never the seed or a code; ``broker.audit.admin``): no audit, no change.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TextIO

if TYPE_CHECKING:
    from broker.audit.sink import AuditSink
    from broker.directory import Directory
    from broker.directory.mfa import MfaSecrets

__all__ = ["MfaInput", "register_mfa", "run_mfa"]


@dataclass(frozen=True)
class MfaInput:
    action: Literal["enable", "verify", "disable", "list"]
    user: str
    device: str
    code: str | None = None
    replace: bool = False
    json: bool = False


def run_mfa(
    args: MfaInput,
    out: TextIO,
    err: TextIO,
    directory: Directory,
    secrets: MfaSecrets,
    audit: AuditSink,
) -> int:
    """Run one ``directory mfa`` action; ``enable`` and ``disable`` are audited to ``audit``
    before anything changes (``AuditError``: nothing changed)."""
    from broker.audit.admin import audited_change, unchanged_on_failure
    from broker.directory import mfa

    if args.action == "enable":
        replacing = mfa.check_enable(directory, args.user, args.device, replace=args.replace)
        with unchanged_on_failure(f"MFA device {args.device!r} was not enrolled for {args.user}"):
            enrolled = audited_change(
                audit,
                "EnableMFADevice",
                {"userName": args.user, "deviceName": args.device, "replace": args.replace},
                lambda: mfa.enable_mfa(
                    directory, secrets, args.user, args.device, replace=args.replace
                ),
                response_elements={"replaced": replacing},
            )
        if args.json:
            _print_json(
                {"user": enrolled.user, "device": enrolled.device, "uri": enrolled.uri}, out
            )
        else:
            out.write(mfa.qr_text(enrolled.uri))
            out.write(f"{enrolled.uri}\n")
        err.write(
            f"MFA device {enrolled.device!r} enrolled for {enrolled.user}: scan the code now, it "
            "is not shown again; confirm with `broker directory mfa verify "
            f"{enrolled.user} CODE`\n"
        )
        return 0
    if args.action == "verify":
        assert args.code is not None
        if mfa.verify_code(directory, secrets, args.user, args.code, args.device):
            err.write(f"code accepted for {args.user}\n")
            return 0
        err.write(f"code refused for {args.user} (wrong, expired or already used)\n")
        return 1
    if args.action == "disable":
        mfa.check_disable(directory, args.user, args.device)
        with unchanged_on_failure(f"MFA device {args.device!r} of {args.user} was not removed"):
            audited_change(
                audit,
                "DeactivateMFADevice",
                {"userName": args.user, "deviceName": args.device},
                lambda: mfa.disable_mfa(directory, secrets, args.user, args.device),
            )
        err.write(f"MFA device {args.device!r} removed from {args.user}\n")
        return 0
    directory.user(args.user)
    devices = directory.mfa_devices(args.user)
    if args.json:
        _print_json(devices, out)
    else:
        out.write("".join(f"{d}\n" for d in devices))
    return 0


def _print_json(data: Any, out: TextIO) -> None:
    out.write(json.dumps(data, indent=2, sort_keys=True) + "\n")


def _handle_mfa(ns: argparse.Namespace) -> int:
    """Open the one state (the directory's runtime tables and the audit chain both live in it)
    and run the action."""
    from broker.commands.opened_state import opened_state
    from broker.config import config_dir, data_dir
    from broker.directory import load_directory
    from broker.directory.keyring_store import KeyringSecrets

    args = MfaInput(
        ns.mfa_action,
        ns.user,
        ns.device,
        getattr(ns, "code", None),
        getattr(ns, "replace", False),
        getattr(ns, "json", False),
    )
    with opened_state(pool_size=2) as state:
        directory = load_directory(config_dir(), state.shared.database)
        try:
            secrets = KeyringSecrets(data_dir())
            return run_mfa(args, sys.stdout, sys.stderr, directory, secrets, state.shared.audit)
        finally:
            directory.close()


def register_mfa(sub: Any) -> None:
    """Add ``mfa`` under the ``directory`` subcommands."""
    mfa = sub.add_parser("mfa", help="TOTP MFA devices (RFC 6238)")
    mfa_sub = mfa.add_subparsers(dest="mfa_action", metavar="ACTION", required=True)
    for action, text in (
        ("enable", "enrol a device: shows its QR code once"),
        ("verify", "check a code from the device"),
        ("disable", "remove a device and its keyring seed"),
        ("list", "list a user's devices"),
    ):
        parser = mfa_sub.add_parser(action, help=text)
        parser.add_argument("user", metavar="USER")
        if action == "verify":
            parser.add_argument("code", metavar="CODE")
        parser.add_argument("--device", default="totp", help="device name (default: totp)")
        if action == "enable":
            parser.add_argument("--replace", action="store_true", help="re-enrol the device")
        if action in ("enable", "list"):
            parser.add_argument("--json", action="store_true", help="print JSON")
        parser.set_defaults(handler=_handle_mfa)
