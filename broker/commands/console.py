"""``broker console``: the AWS console sign-in URL for a session of the upstream ``aws`` minter.

``broker console PROFILE`` takes the profile's credentials through the credential chain (cache,
refresh); ``broker console --env`` takes them from ``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN`` (inside ``broker exec``). The URL is printed on
stdout and nothing else; it grants console access, so treat it as a secret.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from typing import Any

from broker.errors import UsageError

__all__ = ["ConsoleInput", "register", "run_console"]

_ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


@dataclass(frozen=True)
class ConsoleInput:
    """What ``broker console`` was asked."""

    profile: str | None
    from_env: bool
    destination: str | None
    duration: int | None


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "console",
        help="print an AWS console sign-in URL for a session (aws minter)",
        description="Print an AWS console sign-in URL through the federation endpoint.",
    )
    parser.add_argument("profile", nargs="?", help="a profile minted by the aws minter")
    parser.add_argument(
        "--env", dest="from_env", action="store_true", help="use the AWS_* environment variables"
    )
    parser.add_argument("--destination", help="console page to open (default: the console home)")
    parser.add_argument(
        "--duration", type=int, help="console session seconds, 900..43200 (AssumeRole sessions)"
    )
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    options = ConsoleInput(
        profile=args.profile,
        from_env=args.from_env,
        destination=args.destination,
        duration=args.duration,
    )
    print(run_console(options))
    return 0


def _env_credentials() -> Any:
    from datetime import UTC, datetime, timedelta

    from broker.minters.base import Credentials

    missing = [name for name in _ENV if not os.environ.get(name)]
    if missing:
        raise UsageError(f"--env needs {', '.join(missing)} set (run it inside `broker exec`)")
    return Credentials(
        access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
        secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
        session_token=os.environ["AWS_SESSION_TOKEN"],
        expiration=datetime.now(UTC) + timedelta(minutes=15),
    )


def run_console(options: ConsoleInput) -> str:
    """The console sign-in URL for the chosen session (``broker.client.console_session``)."""
    from broker.client.console_session import ConsoleTarget, console_url, console_url_for
    from broker.config import load_config

    if options.from_env == (options.profile is not None):
        raise UsageError("name a PROFILE or pass --env (exactly one)")
    target = ConsoleTarget(destination=options.destination, duration=options.duration)
    if options.profile is not None:
        return console_url(options.profile, target)
    return console_url_for(_env_credentials(), load_config(), target)
