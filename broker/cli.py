"""The command line: every front end starts here.

Each command group lives in ``broker/commands/<group>.py`` and exposes
``register(subparsers) -> None``; its handlers take the parsed arguments, build a frozen input
dataclass, and call a ``run_…`` function that does the work (docs/style.md rule 7). Command modules
import heavy libraries inside their handlers, never at module level, so building the parser
stays cheap.

Errors: a ``BrokerError`` becomes one line on stderr (non-printable characters of values it
echoes, such as a newline in a profile name, are shown escaped) and its branch's exit code
(``broker.errors``); any other exception is a bug: its traceback goes to the log file under the
data directory, and stderr gets one line naming that file.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NoReturn

from broker import __version__
from broker.errors import BrokerError, UsageError, one_printable_line

if TYPE_CHECKING:
    import argparse

__all__ = ["main"]

# argparse is imported only when the parser is built: ``credential-process`` cache hits
# (``broker.client.process``) answer before that, and every millisecond counts there.
Handler = Callable[["argparse.Namespace"], int]

# Command group modules, in the order their help is listed.
COMMAND_MODULES: tuple[str, ...] = (
    "broker.commands.init",
    "broker.commands.config",
    "broker.commands.policy",
    "broker.commands.auth",
    "broker.commands.saml",
    "broker.commands.directory",
    "broker.commands.sts",
    "broker.commands.audit",
    "broker.commands.client",
    "broker.commands.sessions",
    "broker.commands.completion",
    "broker.commands.reports",
    "broker.commands.console",
    "broker.commands.db",
)

_TUI_FLAGS = frozenset({"--no-color", "--ascii", "--readonly"})
"""The options of ``broker`` alone (the terminal app); ``build_parser`` declares them too."""


def _parser_class() -> type[argparse.ArgumentParser]:
    import argparse

    class _Parser(argparse.ArgumentParser):
        """argparse that raises ``UsageError`` instead of printing usage and exiting 2 itself."""

        def error(self, message: str) -> NoReturn:
            raise UsageError(f"{message} (see `{self.prog} --help`)")

    return _Parser


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: every command group's parser under one ``broker``."""

    _Parser = _parser_class()
    parser = _Parser(
        prog="broker",
        description="Federated access broker. With no command, opens the terminal app.",
    )
    parser.add_argument("--version", action="version", version=f"broker {__version__}")
    parser.add_argument(
        "--config", metavar="DIR", help="configuration directory (default: $BROKER_CONFIG)"
    )
    parser.add_argument(
        "--database-url",
        dest="global_database_url",
        metavar="URL",
        help="shared-state database, postgresql://... (default: $BROKER_DATABASE_URL, else SQLite)",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="log HTTP exchanges to stderr, secrets redacted (broker.debug_log)",
    )
    app = parser.add_argument_group("terminal app (no command)")
    app.add_argument("--no-color", action="store_true", help="no colour (also: NO_COLOR)")
    app.add_argument("--ascii", action="store_true", help="ASCII glyphs and spinner only")
    app.add_argument("--readonly", action="store_true", help="hide revoke and admin writes")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(sub)
    return parser


def _report_bug(exc: BaseException) -> int:
    """Log an unexpected exception's traceback to a file and say where, on one line."""
    import logging
    import traceback

    from broker.logs import log_file

    # The crash handler must never fail itself: whatever goes wrong while logging, the person
    # gets one line and exit 70.
    try:
        from broker.config.loader import data_dir

        path = log_file(data_dir())
        logging.getLogger("broker").error(
            "unexpected error\n%s", "".join(traceback.format_exception(exc))
        )
    except Exception as log_error:
        reason = str(log_error) if isinstance(log_error, BrokerError) else type(log_error).__name__
        print(
            f"broker: internal error ({type(exc).__name__}); it could not be logged: "
            f"{reason}. Please report it.",
            file=sys.stderr,
        )
        return 70
    print(
        f"broker: internal error ({type(exc).__name__}); details in {path}. Please report it.",
        file=sys.stderr,
    )
    return 70


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the process exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["credential-process"]:
        # The AWS CLI calls this on every command: serve a cache hit before building argparse.
        from broker.client.process import fast_credential_process
        from broker.data_location import data_dir

        fast = fast_credential_process(args_list[1:], data_dir)
        if fast is not None:
            return fast
    try:
        if set(args_list) <= _TUI_FLAGS:
            # The terminal app alone: building every command's parser would be half its start-up.
            import argparse

            flags = {flag.lstrip("-").replace("-", "_"): flag in args_list for flag in _TUI_FLAGS}
            return _open_tui(argparse.Namespace(**flags))
        parser = build_parser()
        args = parser.parse_args(args_list)
        if args.debug:
            if args.command is None:
                raise UsageError(
                    "--debug writes to the terminal the app draws on: use it with a command "
                    "(e.g. `broker --debug login`)"
                )
            from broker.debug_log import enable_debug

            enable_debug()
        if args.config or args.global_database_url:
            import os

            if args.config:
                os.environ["BROKER_CONFIG"] = args.config
            if args.global_database_url:
                os.environ["BROKER_DATABASE_URL"] = args.global_database_url
        handler: Handler | None = getattr(args, "handler", None)
        if handler is None:
            if args.command is None:
                return _open_tui(args)
            parser.parse_args([args.command, "--help"])
            return 2
        return handler(args)
    except BrokerError as exc:
        print(f"broker: error: {one_printable_line(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("broker: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 141
    except Exception as exc:
        return _unusable_data_dir(exc) or _report_bug(exc)


def _unusable_data_dir(exc: Exception) -> int | None:
    """One line and the store's exit code when ``exc`` is an unusable data directory."""
    if not isinstance(exc, OSError):
        return None
    try:
        from broker.config.data_home import unusable_data_dir
        from broker.config.loader import data_dir

        error = unusable_data_dir(exc, data_dir())
    except Exception:
        return None
    if error is None:
        return None
    print(f"broker: error: {error}", file=sys.stderr)
    return error.exit_code


def _open_tui(args: argparse.Namespace) -> int:
    """Open the terminal app (imported by name so the headless core never depends on it)."""
    tui = importlib.import_module("broker.tui.app")
    result: int = tui.run(no_color=args.no_color, ascii_only=args.ascii, readonly=args.readonly)
    return result
