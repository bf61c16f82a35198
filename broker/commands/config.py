"""``broker config validate``: every problem in the whole configuration, reported at once.

Checks ``broker.toml`` (known sections, ``[broker]``, each ``[providers.<name>]`` through its
provider's own strict settings, each ``[profiles.<name>]``) and the directory under
``config/directory`` (through the directory's validator). Nothing is signed in, nothing is
written, no secret is read.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import Any, Literal

from broker.errors import UsageError

__all__ = ["ConfigProblem", "ValidateInput", "register", "run_validate"]

# Top-level tables of broker.toml and what reads them.
KNOWN_SECTIONS = {
    "broker": "general settings ([broker] default_provider)",
    "providers": "identity providers",
    "profiles": "named credential profiles",
    "minters": "credential sources (local, aws, aws-saml, aws-web-identity)",
}
BROKER_KEYS = {"default_provider"}


@dataclass(frozen=True)
class ConfigProblem:
    """One problem: where, how bad, what to do."""

    file: str
    key: str
    severity: Literal["error", "warning"]
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.key}" if self.key else self.file
        return f"{where}: {self.severity}: {self.message}"


@dataclass(frozen=True)
class ValidateInput:
    """``broker config validate [--json]``."""

    as_json: bool = False


def register(subparsers: Any) -> None:
    """Add ``config`` with its ``validate`` subcommand."""
    config = subparsers.add_parser("config", help="check the whole configuration")
    config.set_defaults(handler=_needs_subcommand)
    sub = config.add_subparsers(dest="config_command", metavar="SUBCOMMAND")
    validate = sub.add_parser(
        "validate", help="report every problem in broker.toml and the directory; exit 1 on errors"
    )
    validate.add_argument("--json", action="store_true", help="problems as a JSON list")
    validate.set_defaults(handler=_validate)


def _needs_subcommand(_args: argparse.Namespace) -> int:
    raise UsageError("`broker config` needs a subcommand: validate (see `broker config --help`)")


def _validate(args: argparse.Namespace) -> int:
    problems = run_validate(ValidateInput(as_json=args.json))
    if args.json:
        print(json.dumps([vars(p) for p in problems], indent=2))
    else:
        for problem in problems:
            print(problem)
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    verdict = "invalid" if errors else "valid"
    from broker.config import config_dir

    # Which directory was read matters: it is found by a lookup order (docs/configuration.md).
    print(
        f"configuration {verdict}: {errors} error(s), {warnings} warning(s) in {config_dir()}",
        file=sys.stderr,
    )
    return 1 if errors else 0


def run_validate(options: ValidateInput) -> list[ConfigProblem]:
    """Every problem in the configuration named by ``BROKER_CONFIG`` (or the shipped one).

    Raises:
        ConfigError: ``broker.toml`` is missing or is not TOML at all (nothing more to check).
    """
    from broker.config import ConfigIssues, load_config

    config = load_config()
    file = str(config.file)
    problems: list[ConfigProblem] = []
    for section in config.sections:
        if section not in KNOWN_SECTIONS:
            known = ", ".join(sorted(KNOWN_SECTIONS))
            problems.append(
                ConfigProblem(file, section, "error", f"unknown section (known: {known})")
            )
    broker_table = config.sections.get("broker", {})
    if isinstance(broker_table, dict):
        for key in broker_table:
            if key not in BROKER_KEYS:
                message = f"unknown key (known: {', '.join(sorted(BROKER_KEYS))})"
                problems.append(ConfigProblem(file, f"broker.{key}", "error", message))
    problems += _provider_problems(config)
    try:
        from broker.client.profiles import load_profiles
        from broker.commands.profile_limits import profile_limit_findings

        profiles = load_profiles(config)
        problems += [
            ConfigProblem(file, key, "error", message)
            for key, message in profile_limit_findings(config, profiles)
        ]
    except ConfigIssues as exc:
        problems += [ConfigProblem(i.file, i.key, "error", i.message) for i in exc.issues]
    try:
        from broker.minters.aws_settings import load_aws_settings

        load_aws_settings(config)
    except ConfigIssues as exc:
        problems += [ConfigProblem(i.file, i.key, "error", i.message) for i in exc.issues]
    from broker.minters.aws_federation import FEDERATED_MINTERS, load_federation_settings

    for minter in FEDERATED_MINTERS:
        try:
            load_federation_settings(config, minter)
        except ConfigIssues as exc:
            problems += [ConfigProblem(i.file, i.key, "error", i.message) for i in exc.issues]
    problems += _directory_problems(config)
    return problems


def _provider_problems(config: Any) -> list[ConfigProblem]:
    from broker.config import ConfigIssues, data_dir
    from broker.config.offline import offline_context
    from broker.config.providers import default_provider, provider_tables
    from broker.config.toml_names import toml_key
    from broker.errors import ConfigError
    from providers import registry

    file = str(config.file)
    problems: list[ConfigProblem] = []
    try:
        tables = provider_tables(config)
    except ConfigIssues as exc:
        return [ConfigProblem(i.file, i.key, "error", i.message) for i in exc.issues]
    try:
        default = default_provider(config)
    except ConfigIssues as exc:
        problems += [ConfigProblem(i.file, i.key, "error", i.message) for i in exc.issues]
        default = None
    if default is not None and default not in tables:
        problems.append(
            ConfigProblem(
                file,
                "broker.default_provider",
                "error",
                f"names {default!r}, which has no [providers.{toml_key(default)}] table",
            )
        )
    context = offline_context(config.directory, data_dir(), "validating configuration")
    for name, table in tables.items():
        key = f"providers.{name}"
        kind = table.get("type")
        if not isinstance(kind, str):
            installed = ", ".join(registry.installed())
            message = f"required key is missing (installed types: {installed})"
            problems.append(ConfigProblem(file, f"{key}.type", "error", message))
            continue
        try:
            registry.load(kind).from_config(name, table, context)
        except ConfigIssues as exc:
            # Providers name their file relatively ("broker.toml"); say which one.
            problems += [
                ConfigProblem(
                    file if i.file == "broker.toml" else i.file, i.key, "error", i.message
                )
                for i in exc.issues
            ]
        except ConfigError as exc:
            problems.append(ConfigProblem(file, key, "error", str(exc)))
    return problems


def _needs_directory(config: Any) -> bool:
    """Whether anything configured reads the directory (see ``_directory_problems``)."""
    from broker.client.profiles import FEDERATED_MINTERS, load_profiles
    from broker.config import ConfigIssues
    from broker.config.providers import provider_tables
    from broker.minters.aws_federation import federated_providers
    from broker.minters.aws_identity_center import PROVIDER_TYPE

    try:
        providers = provider_tables(config)
        profiles = load_profiles(config)
    except ConfigIssues:
        return True  # reported on their own
    upstream = federated_providers(config) | {
        name for name, table in providers.items() if table.get("type") == PROVIDER_TYPE
    }
    if not providers or set(providers) - upstream:
        return True
    minters_upstream = (*FEDERATED_MINTERS, PROVIDER_TYPE)
    return any(profile.minter not in minters_upstream for profile in profiles.values())


def _identity_center_is_the_directory(config: Any) -> bool:
    """True when IAM Identity Center is the only directory in use: every provider is an
    ``aws-identity-center`` one and every profile mints there, so nothing reads ours."""
    from broker.config import ConfigIssues
    from broker.config.providers import provider_tables

    try:
        providers = provider_tables(config)
    except ConfigIssues:
        return False  # reported on their own
    profiles = config.sections.get("profiles", {})
    if not providers or not isinstance(profiles, dict):
        return False
    return all(t.get("type") == "aws-identity-center" for t in providers.values()) and all(
        isinstance(t, dict) and t.get("minter") == "aws-identity-center" for t in profiles.values()
    )


def _directory_problems(config: Any) -> list[ConfigProblem]:
    from broker.directory import Source, validate

    if not (config.directory / "directory").is_dir():
        if _identity_center_is_the_directory(config):
            return []
        # Every command that resolves people or roles reads the directory; without one they
        # all fail, so a configuration without it is not valid -- unless every provider sends
        # its sign-in straight to AWS and every profile mints that way (the IdP decides).
        if not _needs_directory(config):
            return [
                ConfigProblem(
                    str(config.directory / "directory"),
                    "",
                    "warning",
                    "missing: not needed while every provider has aws_federation = true or is "
                    "an aws-identity-center one and every profile mints with aws-saml, "
                    "aws-web-identity or aws-identity-center; the local and aws minters need it "
                    "(`broker init --dir NEWDIR` writes the demo's)",
                )
            ]
        return [
            ConfigProblem(
                str(config.directory / "directory"),
                "",
                "error",
                "missing: every command that resolves people or roles reads the directory "
                "(users, accounts, permission sets, assignments); create it (`broker init "
                "--dir NEWDIR` writes the demo's to start from)",
            )
        ]
    report = validate(Source(config.directory))
    return [
        ConfigProblem(f"{config.directory}/{f.file}", f.key, f.severity, f.message)
        for f in report.findings
    ]
