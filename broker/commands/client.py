"""``broker credential-process | exec | env | configure aws | refresh | serve-credentials``.

Every command gets credentials through the same chain (``broker.client.chain``): cache, then
IdP-session refresh, then mint, under cross-process locks. ``credential-process`` also has a
faster path for cache hits in ``broker.client.process``, taken before argparse is built.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from broker.client.chain import Chain
    from broker.client.profiles import Profile
    from broker.config import BrokerConfig
    from broker.minters.base import Credentials
    from broker.sts.state_handle import StateHandle

__all__ = [
    "ConfigureInput",
    "ExecInput",
    "register",
    "run_configure_aws",
    "run_exec",
]


def _verbose(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-v", "--verbose", action="store_true", help="log decisions to stderr")


# -- credential-process -------------------------------------------------------------------


def _session_options(parser: argparse.ArgumentParser, *, region: bool = True) -> None:
    parser.add_argument(
        "--duration",
        metavar="DURATION",
        help="session length, 15m to 36h within the role's maximum (3600, 90m, 1h30m); "
        "default: the profile's",
    )
    if region:
        parser.add_argument("--region", help="region to export (default: the profile's)")


def _credential_process(args: argparse.Namespace) -> int:
    import json

    _profile, credentials = _profile_credentials(args)
    sys.stdout.write(json.dumps(credentials.to_process_json()) + "\n")
    return 0


def _profile_credentials(args: argparse.Namespace) -> tuple[Profile, Credentials]:
    """``args.profile`` and its credentials (``--duration``), through the chain.

    The state and the chain are closed before this returns: ``exec`` then runs its command,
    perhaps for hours, holding no database connection and no provider client of ours.
    """
    from broker.client.assignment_profiles import resolve_profile, state_directory
    from broker.client.durations import parse_duration

    duration = None if args.duration is None else parse_duration(args.duration)

    def fetch(
        _args: argparse.Namespace, config: BrokerConfig, chain: Chain, state: StateHandle
    ) -> tuple[Profile, Credentials]:
        directory = state_directory(config, state)
        profile = resolve_profile(config, chain.store, args.profile, directory)
        return profile, chain.credentials(profile, duration=duration)

    return _with_chain(args, fetch, ask_mfa=True)


_T = TypeVar("_T")


def _with_chain(
    args: argparse.Namespace,
    command: Callable[[argparse.Namespace, BrokerConfig, Chain, StateHandle], _T],
    *,
    ask_mfa: bool = False,
) -> _T:
    """``command`` with this command's state handle and chain, both closed when it returns."""
    from broker.client.wiring import close_chain, open_chain
    from broker.commands.opened_state import command_state

    with command_state() as state:
        config, chain = open_chain(state=state, verbose=args.verbose, ask_mfa=ask_mfa)
        try:
            return command(args, config, chain, state)
        finally:
            close_chain(chain)


# -- exec / env ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ExecInput:
    """``broker exec PROFILE -- COMMAND...``."""

    profile: str
    command: tuple[str, ...]


def run_exec(inputs: ExecInput, env: dict[str, str], base_env: dict[str, str]) -> int:
    """Run ``inputs.command`` with ``env`` added to ``base_env``; return its exit status.

    A command killed by signal N returns 128 + N, as shells do; one not found returns 127.
    """
    import subprocess

    from broker.client.exports import SHADOWING
    from broker.errors import UsageError

    if not inputs.command:
        raise UsageError("nothing to run: `broker exec PROFILE -- COMMAND [ARGS...]`")
    child_env = {k: v for k, v in base_env.items() if k not in SHADOWING}
    child_env.update(env)
    child_env["BROKER_PROFILE"] = inputs.profile
    try:
        completed = subprocess.run(list(inputs.command), env=child_env, check=False)  # noqa: S603
    except FileNotFoundError:
        print(f"broker: {inputs.command[0]}: command not found", file=sys.stderr)
        return 127
    except PermissionError:
        print(f"broker: {inputs.command[0]}: permission denied", file=sys.stderr)
        return 126
    code = completed.returncode
    return 128 - code if code < 0 else code


def _profile_env(args: argparse.Namespace) -> dict[str, str]:
    """The credential variables for ``args.profile``, with ``--duration``/``--region``; the
    state is closed by then (``_profile_credentials``)."""
    from broker.client.durations import parse_region
    from broker.client.exports import credential_env

    region = None if args.region is None else parse_region(args.region)
    profile, credentials = _profile_credentials(args)
    return credential_env(credentials, region or profile.region)


def _exec_options_after_profile(args: argparse.Namespace) -> list[str]:
    """The command of ``exec PROFILE [OPTIONS] -- COMMAND``: options between the profile and
    ``--`` are exec's own (argparse hands everything after the profile to the command)."""
    rest = list(args.command)
    if "--" not in rest or rest[:1] == ["--"]:
        return rest[1:] if rest[:1] == ["--"] else rest
    cut = rest.index("--")
    options = _parser_class_for_exec()
    options.parse_args(rest[:cut], namespace=args)
    return rest[cut + 1 :]


def _parser_class_for_exec() -> argparse.ArgumentParser:
    from broker.cli import _parser_class

    parser = _parser_class()(prog="broker exec PROFILE", add_help=False)
    _session_options(parser)
    _verbose(parser)
    return parser


def _exec(args: argparse.Namespace) -> int:
    import os

    command = tuple(_exec_options_after_profile(args))
    inputs = ExecInput(profile=args.profile, command=command)
    if not inputs.command:
        from broker.errors import UsageError

        raise UsageError("nothing to run: `broker exec PROFILE -- COMMAND [ARGS...]`")
    env = _profile_env(args)  # the state and the chain are closed once this returns
    return run_exec(inputs, env, dict(os.environ))


def _env(args: argparse.Namespace) -> int:
    from broker.client.exports import render_env

    sys.stdout.write(render_env(_profile_env(args), args.format))
    return 0


# -- configure aws ------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigureInput:
    """``broker configure aws [--name-template T] [--prune] [--file PATH] [--dry-run]``.

    ``template`` names assignment profiles; ``[profiles.NAME]`` tables keep their own names.
    """

    file: Path
    template: str
    prune: bool
    dry_run: bool
    command: str
    region: str | None = None


def run_configure_aws(
    inputs: ConfigureInput, profiles: list[object], notes: tuple[str, ...] = ()
) -> list[str]:
    """Rewrite the managed block of the AWS config file; returns lines to tell the user.

    ``profiles`` are written under their own names (explicit tables and assignment profiles
    alike); ``notes`` are passed through to the user first.
    """
    import shutil

    from broker.client.awsconfig import plan_aws_config
    from broker.client.profiles import Profile
    from broker.errors import StoreError, UsageError

    typed = [p for p in profiles if isinstance(p, Profile)]
    try:
        existing = inputs.file.read_text(encoding="utf-8") if inputs.file.exists() else ""
        plan = plan_aws_config(
            existing, typed, template="{profile}", prune=inputs.prune, command=inputs.command
        )
    except ValueError as exc:
        raise UsageError(f"{inputs.file}: {exc}") from None
    except OSError as exc:
        raise StoreError(f"cannot read {inputs.file}: {exc.strerror}") from None
    lines = [*notes, *(f"wrote profile {name}" for name in plan.written)]
    lines += [
        f"kept profile {name} (no longer configured; --prune removes it)" for name in plan.kept
    ]
    lines += [f"removed profile {name}" for name in plan.pruned]
    lines += [f"skipped {name}: defined outside the managed block" for name in plan.skipped]
    if inputs.dry_run:
        sys.stdout.write(plan.text)
        return lines
    if plan.text == existing:
        return [*lines, f"{inputs.file} is already up to date"]
    try:
        from broker.private_dirs import make_private_dirs

        make_private_dirs(inputs.file.parent)
        if inputs.file.exists():
            backup = inputs.file.with_name(inputs.file.name + ".broker-backup")
            shutil.copyfile(inputs.file, backup)
            backup.chmod(0o600)
            lines.append(f"backup of the previous file: {backup}")
        tmp = inputs.file.with_name(f".{inputs.file.name}.broker-tmp")
        tmp.write_text(plan.text, encoding="utf-8")
        tmp.chmod(0o600)
        tmp.replace(inputs.file)
    except OSError as exc:
        raise StoreError(f"cannot write {inputs.file}: {exc.strerror}") from None
    return lines


def _configure(args: argparse.Namespace) -> int:
    import os

    from broker.client.assertion_roles import account_names, federated_saml_providers
    from broker.client.assignment_profiles import assignment_rows, to_profile
    from broker.client.executable import running_broker_command, temporary_location
    from broker.client.identity_center_portal import portal_lister
    from broker.client.profiles import load_profiles
    from broker.client.wiring import close_chain, open_chain
    from broker.commands.opened_state import command_state
    from broker.config import data_dir, load_config
    from broker.config.toml_names import toml_key
    from broker.directory import load_directory
    from broker.store.credential_store import CredentialStore

    default_file = os.environ.get("AWS_CONFIG_FILE") or "~/.aws/config"
    command = args.command_path or running_broker_command()
    why = temporary_location(command)
    if why:
        print(
            f"broker: warning: the profiles will run {command}, but {why}; install the broker "
            "for good (e.g. `pipx install .`) and rerun `broker configure aws`, or pass "
            "--command-path",
            file=sys.stderr,
        )
    inputs = ConfigureInput(
        file=Path(args.file or default_file).expanduser(),
        template=args.name_template,
        prune=args.prune,
        dry_run=args.dry_run,
        command=command,
        region=args.region,
    )
    config = load_config()
    explicit = load_profiles(config)
    data = data_dir()
    store = CredentialStore(data)
    index = store.read_index()
    has_directory = index.sessions and (config.directory / "directory").is_dir()
    federated = federated_saml_providers(config)  # their roles come from the assertion
    state = command_state()
    _, chain = open_chain(state=state)
    try:
        found = assignment_rows(
            index,
            (
                load_directory(config.directory, state.state().shared.database)
                if has_directory
                else None
            ),
            inputs.template,
            inputs.region,
            federated,
            account_names(config, state) if federated.intersection(index.sessions) else None,
            portal=portal_lister(config, chain),
        )
    finally:
        close_chain(chain)
        state.close()
    rows = [row for row in found.rows if row.profile not in explicit]
    notes = [*found.notes]
    notes += [
        f"{row.profile}: a [profiles.{toml_key(row.profile)}] table in broker.toml has this name "
        "and wins"
        for row in found.rows
        if row.profile in explicit
    ]
    if not inputs.dry_run:
        store.record_assignments(rows, replace=inputs.prune)
    profiles = [*explicit.values(), *(to_profile(row) for row in rows)]
    for line in run_configure_aws(inputs, list(profiles), tuple(notes)):
        print(line, file=sys.stderr)
    return 0


# -- refresh ------------------------------------------------------------------------------


def _refresh(args: argparse.Namespace) -> int:
    """Rounds of the refresher; the state is opened per round, on need, and closed after it
    (``StateHandle.round``), so ``--watch`` holds no database connection while it sleeps."""
    return _with_chain(args, _refresh_rounds)


def _refresh_rounds(
    args: argparse.Namespace, config: BrokerConfig, chain: Chain, state: StateHandle
) -> int:
    from collections import Counter

    from broker.client.assignment_profiles import all_profiles, state_directory
    from broker.client.refresher import Refresher
    from broker.errors import ConfigError

    def dropped(line: str) -> None:
        print(f"broker: {line}", file=sys.stderr, flush=True)

    with state.round():
        profiles = list(
            all_profiles(
                config, chain.store, state_directory(config, state), on_dropped=dropped
            ).values()
        )
    if args.profile:
        known = {p.name for p in profiles}
        unknown = [name for name in args.profile if name not in known]
        if unknown:
            raise ConfigError(
                f"no profile {unknown[0]!r} to refresh (known: {', '.join(sorted(known)) or 'none'}"
                "); see `broker configure aws --dry-run` for the assignment profiles"
            )
        profiles = [p for p in profiles if p.name in set(args.profile)]
    if not profiles and not args.watch:
        print(
            "broker: nothing to refresh: no profiles yet; sign in with `broker login`, then "
            "`broker configure aws` (or add [profiles.NAME] tables to broker.toml)",
            file=sys.stderr,
        )
        return 0

    def report(line: str) -> None:
        print(f"broker: {line}", file=sys.stderr, flush=True)
        if args.watch and "stopped" in line:
            _notify(line)

    refresher = Refresher(chain=chain, profiles=profiles, report=report, state_round=state.round)
    if not args.watch:
        outcomes = refresher.round()
        counts = Counter(o.status for o in outcomes)
        if args.verbose or counts["fresh"] == len(outcomes):
            # Otherwise each refreshed or stopped profile has said so in a line of its own.
            print(
                f"broker: {len(outcomes)} profile(s): {counts['fresh']} still fresh, "
                f"{counts['refreshed']} refreshed, "
                f"{counts['stopped'] + counts['retrying']} not refreshed",
                file=sys.stderr,
            )
        return 1 if any(o.status in ("stopped", "retrying") for o in outcomes) else 0
    from broker.client.watch import watch

    watch(refresher, chain.store.data_dir, report)
    return 0


def _notify(line: str) -> None:
    """A desktop notification where one is available; silently nothing elsewhere."""
    import os
    import shutil
    import subprocess

    tool = shutil.which("notify-send")
    if tool and (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        subprocess.run([tool, "Access Broker", line], check=False, timeout=5)  # noqa: S603


# -- serve-credentials --------------------------------------------------------------------


def _serve_credentials(args: argparse.Namespace) -> int:
    return _with_chain(args, _serve_profiles)


def _serve_profiles(
    args: argparse.Namespace, config: BrokerConfig, chain: Chain, state: StateHandle
) -> int:
    """Serve until SIGTERM or Ctrl-C; each request is a round of the state (opened on need,
    closed when no other request is running), so no database connection idles between them."""
    import signal
    import threading

    from broker.client.assignment_profiles import resolve_profile, state_directory
    from broker.client.endpoint import start_server
    from broker.client.exports import render_env
    from broker.client.watch import Terminated
    from broker.client.wiring import stderr_log

    directory = state_directory(config, state)
    with state.round():
        profiles = {
            name: resolve_profile(config, chain.store, name, directory) for name in args.profiles
        }

    def fetch(name: str) -> Credentials:
        with state.round():
            return chain.credentials(profiles[name])

    server = start_server(list(profiles), fetch, imds=args.imds, log=stderr_log(True))
    if args.imds:
        env = {"AWS_EC2_METADATA_SERVICE_ENDPOINT": server.base_url + "/"}
    else:
        env = {
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": server.container_uri(args.profiles[0]),
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": server.token,
        }
        for name in args.profiles[1:]:
            print(f"broker: {name}: {server.container_uri(name)}", file=sys.stderr)
    sys.stdout.write(render_env(env, args.format))
    sys.stdout.flush()
    print("broker: serving credentials on 127.0.0.1; Ctrl-C stops", file=sys.stderr, flush=True)
    # SIGTERM raises instead of setting an event the main thread waits on: ``Event.set()`` in
    # a handler can deadlock on the lock ``wait()`` holds (``broker.client.watch`` says why).
    signal.signal(signal.SIGTERM, _terminated)
    try:
        threading.Event().wait()
    except Terminated:
        pass
    finally:
        server.shutdown()
    return 0


def _terminated(_signum: int, _frame: FrameType | None) -> None:
    import signal

    from broker.client.watch import Terminated

    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends the cleanup at once
    raise Terminated


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the client commands."""
    process = sub.add_parser("credential-process", help="AWS credential_process helper")
    process.add_argument("--profile", required=True, help="broker profile name")
    # No --region: the credential_process document has no region; the AWS profile's
    # ``region`` (``configure aws --region``) sets it.
    _session_options(process, region=False)
    _verbose(process)
    process.set_defaults(handler=_credential_process)

    run = sub.add_parser("exec", help="run a command with credentials")
    run.add_argument("profile")
    run.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARGS...]")
    _session_options(run)
    _verbose(run)
    run.set_defaults(handler=_exec)

    env = sub.add_parser("env", help="print credentials as environment exports")
    env.add_argument("profile")
    env.add_argument("--format", choices=("sh", "fish", "powershell", "json"), default="sh")
    _session_options(env)
    _verbose(env)
    env.set_defaults(handler=_env)

    configure = sub.add_parser("configure", help="write AWS CLI profiles")
    tools = configure.add_subparsers(dest="tool", metavar="TOOL", required=True)
    aws = tools.add_parser("aws", help="write ~/.aws/config profiles (managed block)")
    aws.add_argument(
        "--name-template",
        default="{account_name}.{permission_set}",
        help="name of each assignment profile; placeholders: {account_name} {account_id} "
        "{permission_set} {role_name} {provider} {user}",
    )
    aws.add_argument(
        "--prune", action="store_true", help="remove profiles no longer configured or assigned"
    )
    aws.add_argument("--region", help="region written into each assignment profile")
    aws.add_argument("--file", help="AWS config file (default: $AWS_CONFIG_FILE or ~/.aws/config)")
    aws.add_argument("--dry-run", action="store_true", help="print the new file, change nothing")
    aws.add_argument(
        "--command-path", help="broker executable to write (default: the one running now)"
    )
    aws.set_defaults(handler=_configure)

    refresh = sub.add_parser("refresh", help="refresh stored sessions headlessly")
    refresh.add_argument(
        "--watch", action="store_true", help="keep running, refreshing before expiry"
    )
    refresh.add_argument("--profile", action="append", help="only this profile (repeatable)")
    _verbose(refresh)
    refresh.set_defaults(handler=_refresh)

    serve = sub.add_parser("serve-credentials", help="container / IMDS credentials endpoint")
    serve.add_argument("profiles", nargs="+", metavar="PROFILE")
    serve.add_argument("--imds", action="store_true", help="IMDSv2-style endpoint (one profile)")
    serve.add_argument("--format", choices=("sh", "fish", "powershell", "json"), default="sh")
    _verbose(serve)
    serve.set_defaults(handler=_serve_credentials)
