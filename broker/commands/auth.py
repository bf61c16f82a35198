"""``broker login | logout | whoami | providers``: signing in through identity providers."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["register"]


def _print_err(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _login(args: argparse.Namespace) -> int:
    from broker.config import data_dir, load_config
    from broker.signin import LoginInput, provider_builder, resolve_provider_name, run_login
    from broker.store.credential_store import CredentialStore
    from broker.terminal_ui import TerminalSignInUI

    config = load_config()
    store = CredentialStore(data_dir())
    captured = None
    if args.saml_response is not None:
        from broker.commands.saml_capture import read_captured_response

        captured = read_captured_response(args.saml_response)
    inputs = LoginInput(
        provider=resolve_provider_name(config, args.provider),
        device=args.device,
        user_hint=args.user_hint,
        saml_response=captured,
    )
    claims = run_login(
        inputs, store=store, build=provider_builder(config, store), ui=TerminalSignInUI()
    )
    who = claims.email or claims.name or claims.subject
    _print_err(f"Signed in to {inputs.provider} as {who}.")
    return 0


def _logout(args: argparse.Namespace) -> int:
    from broker.config import data_dir, load_config
    from broker.signin import provider_builder, resolve_provider_name, run_logout
    from broker.store.credential_store import CredentialStore

    config = load_config()
    store = CredentialStore(data_dir())
    names = (
        sorted(store.read_index().sessions)
        if args.all
        else [resolve_provider_name(config, args.provider)]
    )
    build = provider_builder(config, store)
    for name in names:
        removed = run_logout(name, store=store, build=build, warn=_print_err)
        extra = f" and forgot {len(removed)} profile(s)" if removed else ""
        _print_err(f"Signed out of {name}{extra}.")
    if args.all:  # and whatever else the keyring holds for this data directory
        left = store.forget_everything()
        if left:
            _print_err(f"Forgot {len(left)} more cached profile(s).")
    return 0


@dataclass(frozen=True)
class WhoamiInput:
    provider: str | None
    json: bool


def _whoami(args: argparse.Namespace) -> int:
    from broker.config import data_dir

    return run_whoami_command(WhoamiInput(provider=args.provider, json=args.json), data_dir())


def run_whoami_command(inputs: WhoamiInput, home: Path) -> int:
    """Print the stored sessions' claims (never a token) as text or JSON."""
    import json
    from datetime import UTC, datetime

    from broker.errors import ReauthenticationRequired
    from broker.signin import run_whoami
    from broker.store.credential_store import CredentialStore

    rows = run_whoami(CredentialStore(home), inputs.provider)
    if not rows:
        target = f" to {inputs.provider}" if inputs.provider else ""
        login = f"broker login {inputs.provider}" if inputs.provider else "broker login"
        raise ReauthenticationRequired(f"not signed in{target}: run `{login}`")
    if inputs.json:
        doc = [
            {**row.claims.to_json(), "session_expires_at": row.expires_at.isoformat()}
            for row in rows
        ]
        print(json.dumps(doc, indent=2))
        return 0
    now = datetime.now(UTC)
    for row in rows:
        c = row.claims
        print(f"{row.provider}: {c.email or c.name or c.subject}")
        print(f"  subject   {c.subject}")
        print(f"  issuer    {c.issuer}")
        if c.name:
            print(f"  name      {c.name}")
        print(f"  groups    {', '.join(c.groups) or '-'}")
        amr = f" ({', '.join(c.amr)})" if c.amr else ""
        print(f"  mfa       {'yes' if c.mfa else 'no'}{amr}")
        ended = (
            " (ended: `broker login` or `broker refresh` renews it)" if row.expires_at < now else ""
        )
        print(f"  session   until {row.expires_at.isoformat()}{ended}")
    return 0


def _providers(args: argparse.Namespace) -> int:
    import json

    from broker.config import data_dir, load_config
    from broker.signin import list_providers

    rows, installed = list_providers(load_config(), data_dir())
    if args.json:
        print(json.dumps({"configured": [r.to_json() for r in rows], "installed": installed}))
        return 0
    for row in rows:
        state = "signed in" if row.signed_in else "signed out"
        missing = "" if row.installed else "  (type not installed)"
        print(f"{row.name:<16} {row.type:<10} {state}{missing}")
    print(f"installed types: {', '.join(installed) or 'none'}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the sign-in commands."""
    login = sub.add_parser("login", help="sign in through an identity provider")
    login.add_argument(
        "provider", nargs="?", help="provider name (default: [broker] default_provider)"
    )
    login.add_argument("--device", action="store_true", help="use the device code flow")
    login.add_argument(
        "--user-hint", metavar="NAME", help="login hint (demo user for the embedded IdP)"
    )
    login.add_argument(
        "--saml-response",
        metavar="FILE|-",
        help="an aws_federation SAML provider: the SAMLResponse your IdP posted to AWS, from "
        "a file only you can read or from standard input (-)",
    )
    login.set_defaults(handler=_login)

    logout = sub.add_parser("logout", help="sign out and forget the stored session")
    logout.add_argument("provider", nargs="?", help="provider name (default: the default one)")
    logout.add_argument("--all", action="store_true", help="sign out of every provider")
    logout.set_defaults(handler=_logout)

    whoami = sub.add_parser("whoami", help="show the claims of the current session")
    whoami.add_argument("provider", nargs="?", help="only this provider")
    whoami.add_argument("--json", action="store_true", help="print JSON")
    whoami.set_defaults(handler=_whoami)

    providers = sub.add_parser("providers", help="list installed and configured providers")
    providers.add_argument("--json", action="store_true", help="print JSON")
    providers.set_defaults(handler=_providers)
