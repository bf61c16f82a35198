"""``broker sessions [--json]`` and ``broker sessions clear [PROFILE]``: what is cached.

The same facts as the terminal app's Sessions view (``broker.client.sessions``), from the
index alone: listing never reads the keyring and never signs in.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["SessionsInput", "register", "render_sessions", "run_sessions"]


@dataclass(frozen=True)
class SessionsInput:
    """``broker sessions [--json]`` / ``broker sessions clear [PROFILE]``."""

    action: str  # "list" or "clear"
    as_json: bool = False
    profile: str | None = None


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _left(when: datetime, now: datetime) -> str:
    seconds = int((when - now).total_seconds())
    if seconds <= 0:
        return "expired"
    hours, rest = divmod(seconds, 3600)
    return f"in {hours}h{rest // 60:02d}m" if hours else f"in {rest // 60}m"


def render_sessions(rows: list[Any], as_json: bool, now: datetime) -> str:
    """``rows`` (``CachedSession``) as JSON lines' array or an aligned table."""
    import json

    if as_json:
        return (
            json.dumps(
                [
                    {
                        "profile": row.profile,
                        "provider": row.provider,
                        "account": row.account_id,
                        "account_name": row.account_name,
                        "role": row.role,
                        "expiration": _stamp(row.expiration),
                        "expired": row.expiration <= now,
                        "minter": row.minter,
                        "refreshable": row.refreshable,
                    }
                    for row in rows
                ],
                indent=2,
            )
            + "\n"
        )
    if not rows:
        return "nothing cached (credentials are cached when a profile is first used)\n"
    table = [("PROFILE", "ACCOUNT", "ROLE", "PROVIDER", "EXPIRES", "MINTER")]
    for row in rows:
        account = (
            row.account_id
            if row.account_name == row.account_id
            else f"{row.account_name} ({row.account_id})"
        )
        expiry = f"{_stamp(row.expiration)} ({_left(row.expiration, now)})"
        table.append((row.profile, account, row.role, row.provider, expiry, row.minter or "-"))
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    return "".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        + "\n"
        for line in table
    )


def run_sessions(inputs: SessionsInput) -> int:
    from broker.client.sessions import cached_sessions, clear_sessions
    from broker.config import config_dir, data_dir

    if inputs.action == "clear":
        cleared = clear_sessions(data_dir(), inputs.profile)
        for name in cleared:
            print(f"broker: forgot the cached credentials of {name}", file=sys.stderr)
        if cleared:
            print(
                "broker: they stay valid until they expire; `broker sts revoke` ends them "
                "sooner (local minter)",
                file=sys.stderr,
            )
        else:
            print("broker: nothing was cached", file=sys.stderr)
        return 0
    from broker.commands.opened_state import command_state

    with command_state() as state:
        rows = cached_sessions(config_dir(), state)
    sys.stdout.write(render_sessions(rows, inputs.as_json, datetime.now(UTC)))
    return 0


def _handle(args: argparse.Namespace) -> int:
    if args.action == "clear":
        return run_sessions(SessionsInput("clear", profile=args.profile))
    return run_sessions(SessionsInput("list", as_json=args.json))


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``broker sessions``."""
    sessions = sub.add_parser(
        "sessions",
        help="what is cached: profile, account, role, provider, expiry, minter",
        description="List cached credentials (never signing in), or forget them.",
    )
    sessions.add_argument("--json", action="store_true", help="a JSON array")
    sessions.set_defaults(handler=_handle, action="list")
    actions = sessions.add_subparsers(dest="action", metavar="ACTION")
    clear = actions.add_parser("clear", help="forget cached credentials (all, or one profile)")
    clear.add_argument("profile", nargs="?", help="only this profile")
    clear.set_defaults(handler=_handle)
