"""``broker console``: the AWS console sign-in URL for a session of the upstream ``aws`` minter.

``broker console PROFILE`` takes the profile's credentials through the credential chain (cache,
refresh); ``broker console --env`` takes them from ``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN`` (inside ``broker exec``). The URL is printed on
stdout and nothing else; it grants console access, so treat it as a secret.

``--open`` hands the URL to the browser instead (``webbrowser``, which honours ``$BROWSER``),
where one can appear in front of the user (``broker.terminal_ui.browser_possible``) or
``$BROWSER`` names one; otherwise, or if the browser fails to start, the URL is printed as
without it, with a line on stderr saying why.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from broker.errors import UsageError

__all__ = ["ConsoleInput", "open_in_browser", "register", "run_console"]

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
    parser.add_argument(
        "--open",
        dest="open_browser",
        action="store_true",
        help="open the URL in the browser ($BROWSER honoured); printed when there is none",
    )
    parser.set_defaults(handler=_handle)


def _handle(args: argparse.Namespace) -> int:
    options = ConsoleInput(
        profile=args.profile,
        from_env=args.from_env,
        destination=args.destination,
        duration=args.duration,
    )
    url = run_console(options)
    if args.open_browser and open_in_browser(url):
        print("broker: opened the console sign-in in your browser", file=sys.stderr)
        return 0
    print(url)
    return 0


def open_in_browser(url: str, env: Mapping[str, str] | None = None) -> bool:
    """Give ``url`` to the browser; False (with a line on stderr) when there is none here."""
    import webbrowser

    from broker.terminal_ui import browser_possible

    env = os.environ if env is None else env
    if not env.get("BROWSER") and not browser_possible(env, sys.platform):
        print("broker: no browser can open here; printing the URL instead", file=sys.stderr)
        return False
    try:
        if webbrowser.open(url, new=2):
            return True
    except webbrowser.Error:
        pass
    print("broker: the browser did not start; printing the URL instead", file=sys.stderr)
    return False


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
    from broker.commands.opened_state import command_state
    from broker.config import load_config

    if options.from_env == (options.profile is not None):
        raise UsageError("name a PROFILE or pass --env (exactly one)")
    target = ConsoleTarget(destination=options.destination, duration=options.duration)
    if options.profile is not None:
        with command_state() as state:
            return console_url(options.profile, target, state=state)
    return console_url_for(_env_credentials(), load_config(), target)
