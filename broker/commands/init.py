"""``broker init [--demo | --provider oidc|saml] [--force] [--dir DIR]``: a starter configuration.

Writes to the user's configuration directory (the second place the broker looks, after
``--config``/``$BROKER_CONFIG``; docs/configuration.md), so an installed ``broker`` picks it up
with no flag. It never replaces a file unless ``--force`` is given.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from broker.config.starter import StarterKind, StarterResult

__all__ = ["InitInput", "register", "run_init"]


@dataclass(frozen=True)
class InitInput:
    """What to write, and where (``None``: the user's configuration directory)."""

    kind: str = "demo"
    force: bool = False
    directory: Path | None = None


def register(subparsers: Any) -> None:
    """Add ``init``."""
    init = subparsers.add_parser(
        "init", help="write a commented starter configuration to your configuration directory"
    )
    which = init.add_mutually_exclusive_group()
    which.add_argument(
        "--demo",
        action="store_const",
        const="demo",
        dest="kind",
        help="the embedded demo IdP and directory (the default)",
    )
    which.add_argument(
        "--provider",
        choices=("oidc", "saml"),
        dest="kind",
        help="your own OIDC or SAML IdP, with the demo directory to edit",
    )
    init.add_argument("--force", action="store_true", help="replace files that already exist")
    init.add_argument(
        "--dir",
        metavar="DIR",
        type=Path,
        help="write there instead of the user's configuration directory",
    )
    init.set_defaults(handler=_init, kind="demo")


def _init(args: argparse.Namespace) -> int:
    result = run_init(InitInput(kind=args.kind, force=args.force, directory=args.dir))
    print(f"Wrote a starter configuration ({len(result.files)} files) to {result.directory}.")
    print("Next:")
    for step in result.next_steps:
        print(f"  - {step}")
    if args.dir is not None:
        print(f"  - it is read with `broker --config {result.directory} ...` or BROKER_CONFIG")
    return 0


def run_init(options: InitInput) -> StarterResult:
    """Write the starter configuration and say what was written.

    Raises:
        ConfigError: files exist and ``force`` is false, or the directory cannot be written.
    """
    import os

    from broker.config.loader import user_config_dir
    from broker.config.starter import write_starter

    target = options.directory or user_config_dir()
    if options.directory is None and os.environ.get("BROKER_CONFIG"):
        print(
            f"broker: note: BROKER_CONFIG is set, so {target} is read only once it is unset",
            file=sys.stderr,
        )
    kinds: dict[str, StarterKind] = {"demo": "demo", "oidc": "oidc", "saml": "saml"}
    if options.kind not in kinds:
        from broker.errors import UsageError

        raise UsageError(f"unknown starter {options.kind!r}: use --demo or --provider oidc|saml")
    return write_starter(target.expanduser(), kinds[options.kind], force=options.force)
