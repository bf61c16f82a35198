"""The thin adapter between the screens and the headless core.

Screens never import the core directly: they call these functions from workers (they block on
I/O) and get the project's own values back (``broker.tui.model``) or a ``BrokerError``. Where
the core piece a feature needs has not landed yet, the call raises ``NotYetAvailableError``
naming the issue that brings it, and the screen shows that plainly instead of pretending.

No Textual here, so the adapter can be exercised without an app.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from broker.errors import (
    BrokerError,
    ConfigError,
    NotYetAvailableError,
    StoreError,
    UsageError,
)
from broker.tui.model import (
    DirectoryTables,
    MintChoice,
    MintOutcome,
    PortalRole,
    SessionRow,
    format_account_id,
)
from providers.base import Claims, SignInResult, SignInUI

if TYPE_CHECKING:
    from broker.analyzer.targets import Target, Zone
    from broker.tui.reports_data import Finding, LastAccessedView, PrincipalKind

__all__ = [
    "ProviderChoice",
    "Services",
    "feature_available",
]

# Feature -> (module, attribute it needs, issue that brings it).
_FEATURES: dict[str, tuple[str, str, int]] = {
    "sign-in": ("broker.signin", "run_login", 3),
    "portal": ("broker.directory", "load_directory", 4),
    "directory": ("broker.directory", "load_directory", 4),
    "mint": ("broker.minters.local", "LocalMinter", 5),
    "audit": ("broker.audit", "AuditLog", 5),
    "sessions": ("broker.store", "CredentialStore", 6),
    "simulator": ("broker.policy", "evaluate", 2),
    "reports": ("broker.analyzer.credential_report", "credential_report", 9),
}

_WHAT = {
    "sign-in": "signing in",
    "portal": "the portal's account list",
    "directory": "the directory view",
    "mint": "minting credentials",
    "audit": "the audit log view",
    "sessions": "the sessions view",
    "simulator": "the policy simulator",
    "reports": "reports",
}


def _load(feature: str) -> Any:
    """The core object ``feature`` needs, or ``NotYetAvailableError`` naming its issue."""
    module_name, attribute, issue = _FEATURES[feature]
    try:
        module = importlib.import_module(module_name)
        return getattr(module, attribute)
    except (ImportError, AttributeError):
        raise NotYetAvailableError(
            f"{_WHAT[feature]} is not yet available (issue #{issue} brings it)"
        ) from None


def _role_label(index: Any, profile: str, role: str) -> str:
    assignment = index.assignments.get(profile)
    if assignment is not None and assignment.role == role and assignment.permission_set:
        return str(assignment.permission_set)
    return role


def feature_available(feature: str) -> bool:
    """Whether the core piece behind ``feature`` is installed (cheap; used to label screens)."""
    try:
        _load(feature)
    except NotYetAvailableError:
        return False
    return True


@dataclass(frozen=True)
class ProviderChoice:
    """A configured identity provider, as the sign-in screen lists it."""

    name: str
    kind: str
    default: bool


class Services:
    """Everything the app asks of the core, for one configuration and data directory."""

    def __init__(self, config_dir: Path | None = None, data_dir: Path | None = None) -> None:
        from broker.config import config_dir as find_config
        from broker.config import data_dir as find_data

        self.config_dir = find_config(config_dir)
        self.data_dir = data_dir or find_data()

    def _sections(self) -> Mapping[str, Any]:
        from broker.config import load_config

        return load_config(self.config_dir).sections

    def providers(self) -> list[ProviderChoice]:
        """The providers configured in ``broker.toml``, the default first.

        Raises:
            ConfigError: ``broker.toml`` cannot be read or a provider table is malformed.
        """
        sections = self._sections()
        table = sections.get("providers", {})
        broker = sections.get("broker", {})
        default = broker.get("default_provider") if isinstance(broker, dict) else None
        if not isinstance(table, dict):
            raise ConfigError("broker.toml: providers: expected a table of providers")
        choices = []
        for name, settings in table.items():
            if not isinstance(settings, dict) or not isinstance(settings.get("type"), str):
                raise ConfigError(f"broker.toml: providers.{name}.type: required key is missing")
            choices.append(ProviderChoice(name, settings["type"], name == default))
        return sorted(choices, key=lambda c: (not c.default, c.name))

    def sign_in(
        self, provider: str, ui: SignInUI, *, device: bool = False, user_hint: str | None = None
    ) -> SignInResult:
        """Sign in through ``provider`` and keep the session in the store (blocks until the
        person finishes or it times out), exactly as ``broker login`` does.

        Raises:
            ProviderError: the IdP refused or failed; StoreError: no usable keyring.
        """
        run_login = _load("sign-in")
        from broker.config import load_config
        from broker.signin import LoginInput, provider_builder
        from broker.store import CredentialStore

        config = load_config(self.config_dir)
        store = CredentialStore(self.data_dir)
        run_login(
            LoginInput(provider=provider, device=device, user_hint=user_hint),
            store=store,
            build=provider_builder(config, store),
            ui=ui,
        )
        session: SignInResult | None = store.session(provider)
        if session is None:
            raise StoreError("the sign-in was not kept in the store; run `broker login` to see why")
        return session

    def require(self, feature: str) -> None:
        """Raise ``NotYetAvailableError`` unless ``feature``'s core piece is installed."""
        _load(feature)

    def portal_roles(self, identity: SignInResult) -> list[PortalRole]:
        """The roles ``identity`` may use, from the directory's assignments.

        The directory lists each path to a role (direct, and once per group); the portal shows
        the role once, with every path in ``via``.

        Raises:
            DirectoryError: the person is not in the directory (and JIT is off).
            ConfigError: the directory configuration is invalid.
        """
        load_directory = _load("portal")
        directory = load_directory(self.config_dir, data_dir=self.data_dir)
        try:
            accounts = {account.id: account for account in directory.accounts()}
            assignments = directory.assignments_for(identity.claims)
        finally:
            directory.close()
        by_key: dict[tuple[str, str], PortalRole] = {}
        for a in assignments:
            key = (a.account_id, a.role_name)
            seen = by_key.get(key)
            if seen is not None:
                by_key[key] = dataclasses.replace(seen, via=f"{seen.via}, {a.via}")
                continue
            account = accounts.get(a.account_id)
            by_key[key] = PortalRole(
                account_id=a.account_id,
                account_name=a.account_name,
                role_name=a.role_name,
                permission_set=a.permission_set,
                role_arn=a.role_arn,
                max_session_seconds=a.max_session_duration,
                email=account.email if account else "",
                tags=dict(account.tags) if account else {},
                via=a.via,
            )
        return list(by_key.values())

    def mint(self, identity: SignInResult, role: PortalRole, choice: MintChoice) -> MintOutcome:
        """Mint credentials for ``role`` and keep them in the store under its profile name
        (``broker.tui.session_ops.mint_profile``); the reason goes to the mint's audit event."""
        _load("mint")
        _load("sessions")
        from broker.tui.session_ops import mint_profile

        return mint_profile(self.config_dir, self.data_dir, identity, role, choice)

    def directory_tables(self) -> DirectoryTables:
        """Users, groups, accounts and permission sets, for the admin view."""
        from broker.tui.durations import format_duration

        load_directory = _load("directory")
        directory = load_directory(self.config_dir, data_dir=self.data_dir)
        try:
            return DirectoryTables(
                users=tuple(
                    (u.name, u.email, ", ".join(u.groups), "service" if u.service else "person")
                    for u in directory.users()
                ),
                groups=tuple(
                    (g.name, str(len(g.members)), g.description) for g in directory.groups()
                ),
                accounts=tuple(
                    (a.name, format_account_id(a.id), " / ".join(a.ou_path), a.email)
                    for a in directory.accounts()
                ),
                permission_sets=tuple(
                    (p.name, format_duration(p.session_duration), p.description)
                    for p in directory.permission_sets()
                ),
            )
        finally:
            directory.close()

    def effective_access(self, user_name: str) -> list[tuple[str, str, str]]:
        """``(account, permission set, via)`` for everything ``user_name`` may use."""
        load_directory = _load("directory")
        directory = load_directory(self.config_dir, data_dir=self.data_dir)
        try:
            held = directory.assignments_of(directory.user(user_name))
        finally:
            directory.close()
        return [
            (f"{a.account_name} ({format_account_id(a.account_id)})", a.permission_set, a.via)
            for a in held
        ]

    def simulation_principals(self) -> list[tuple[str, str]]:
        """Every person's role on every account, as ``(label, key)`` for the simulator."""
        load_directory = _load("directory")
        directory = load_directory(self.config_dir, data_dir=self.data_dir)
        try:
            out: dict[str, str] = {}
            for user in directory.users():
                for a in directory.assignments_of(user):
                    key = f"{user.name}|{a.account_id}|{a.role_name}"
                    label = f"{user.name} · {a.permission_set} @ {a.account_name}"
                    out.setdefault(key, label)
        finally:
            directory.close()
        return sorted(((label, key) for key, label in out.items()), key=lambda item: item[0])

    def simulation_form(self, key: str) -> dict[str, Any]:
        """The simulator's fields for a person's session in a role: the session ARN, the role's
        permission policies, its boundary, the account's SCPs, and context keys AWS sets."""
        from broker.tui.simulation import merge_documents

        user_name, account_id, role_name = key.split("|", 2)
        load_directory = _load("directory")
        directory = load_directory(self.config_dir, data_dir=self.data_dir)
        try:
            user = directory.user(user_name)
            role = directory.role(account_id, role_name)
            levels = directory.scp_hierarchy(account_id)
            management = directory.is_management_account(account_id)
            tags = directory.principal_tags(user)
        finally:
            directory.close()
        context = [f"aws:PrincipalArn={role.arn}"]
        context += [f"aws:PrincipalTag/{k}={v}" for k, v in sorted(tags.items())]
        return {
            "principal_arn": f"arn:aws:sts::{account_id}:assumed-role/{role.name}/{user.name}",
            "identity": merge_documents(list(role.permission_policies)),
            "boundary": merge_documents([role.permissions_boundary])
            if role.permissions_boundary
            else "",
            "scp": "\n---\n".join(merge_documents(list(level)) for level in levels),
            "context": "\n".join(context),
            "management_account": management,
        }

    def audit(self, query: str = "") -> tuple[str, list[tuple[str, ...]]]:
        """The chain's status and the events ``query`` keeps, newest first.

        ``query``: ``user=NAME role=NAME|ARN event=NAME since=ISO-TIME`` words, all optional.
        Rows: time, event, who, role, outcome (the error code, or ``ok``). Never a secret: the
        log holds none.

        Raises:
            UsageError: an unknown filter word.
        """
        audit_log = _load("audit")
        from broker.audit import EventFilter, select

        spec: dict[str, Any] = {}
        for word in query.split():
            key, sep, value = word.partition("=")
            if not sep or key not in ("user", "role", "event", "since"):
                raise UsageError(f"audit filter {word!r}: use user=, role=, event= or since=")
            spec[key] = datetime.fromisoformat(value) if key == "since" else value
        log = audit_log(self.data_dir / "audit" / "audit.jsonl")
        try:
            verified = log.verify()
            status = f"chain verified ({verified.events} events)"
        except BrokerError as exc:
            status = f"CHAIN BROKEN: {exc}"
        rows: list[tuple[str, ...]] = []
        for event in select(log.events(), EventFilter(**spec)):
            identity = event.get("userIdentity") or {}
            who = identity.get("userName") or identity.get("arn") or identity.get("principalId")
            params = event.get("requestParameters") or {}
            rows.append(
                (
                    str(event.get("eventTime", "")),
                    str(event.get("eventName", "")),
                    str(who or "-"),
                    str(params.get("roleArn") or "-"),
                    str(event.get("errorCode") or "ok"),
                )
            )
        rows.reverse()
        return status, rows

    def demo_users(self) -> list[tuple[str, str]]:
        """The embedded IdP's demo users, for the first-run welcome: ``(user, what they get)``.

        Each user's roles are what the directory assigns to the claims the embedded IdP would
        issue for them; before the directory lands, their IdP groups are what is known.
        Empty when no embedded provider is configured.
        """
        embedded = [c.name for c in self.providers() if c.kind == "embedded"]
        if not embedded:
            return []
        from providers.embedded.users import ISSUER, load_users

        users = sorted(load_users(self.config_dir).items())
        mfa_word = {True: "MFA", False: "no MFA"}
        if not feature_available("directory"):
            return [
                (name, f"{u.email} · groups: {', '.join(u.groups) or 'none'} · {mfa_word[u.mfa]}")
                for name, u in users
            ]
        load_directory = _load("directory")
        directory = load_directory(self.config_dir, data_dir=self.data_dir)
        out = []
        try:
            for name, user in users:
                claims = Claims(
                    provider=embedded[0],
                    issuer=ISSUER,
                    subject=user.subject,
                    email=user.email,
                    name=user.name,
                    groups=user.groups,
                    mfa=user.mfa,
                )
                try:
                    held = directory.assignments_for(claims)
                except BrokerError as exc:
                    out.append((name, f"{user.email} · {exc}"))
                    continue
                sets = sorted({a.permission_set for a in held})
                accounts = len({a.account_id for a in held})
                what = ", ".join(sets) if sets else "nothing assigned"
                noun = "account" if accounts == 1 else "accounts"
                out.append((name, f"{accounts} {noun}: {what} · {mfa_word[user.mfa]}"))
        finally:
            directory.close()
        return out

    def sessions(self) -> list[SessionRow]:
        """Every cached profile, from the store's index (no secrets, no keyring read).

        Account names come from the directory where it knows the account; an assignment
        profile shows its permission set (as the portal does), not the ``AWSReservedSSO_…`` role.
        """
        _load("sessions")
        from broker.store.index import IndexFile

        index = IndexFile(self.data_dir / "store").read()
        names: dict[str, str] = {}
        if feature_available("directory") and index.profiles:
            load_directory = _load("directory")
            directory = load_directory(self.config_dir, data_dir=self.data_dir)
            try:
                names = {account.id: account.name for account in directory.accounts()}
            finally:
                directory.close()
        return [
            SessionRow(
                profile=row.profile,
                account_id=row.account,
                account_name=names.get(row.account, row.account),
                role_name=_role_label(index, row.profile, row.role),
                expiration=row.expiration,
                refreshable=row.provider in index.sessions,
            )
            for row in index.profiles.values()
        ]

    def refresh(self, profiles: list[str]) -> list[str]:
        """Re-mint ``profiles`` now through the chain ``credential-process`` uses."""
        _load("sessions")
        from broker.tui.session_ops import refresh_profiles

        return refresh_profiles(self.config_dir, self.data_dir, profiles)

    def revoke(self, profile: str) -> bool:
        """Revoke the local STS session behind ``profile`` and forget its credentials."""
        _load("mint")
        from broker.tui.session_ops import revoke_profile

        return revoke_profile(self.data_dir, profile)

    # Reports (issue 7's Reports view over the governance core); shaping lives in reports_data.

    def credential_report(self) -> list[dict[str, str]]:
        """IAM's credential report for the directory, one dict per row (no secrets)."""
        _load("reports")
        from broker.tui.reports_data import credential_rows

        return credential_rows(self.config_dir, self.data_dir)

    def last_accessed(self, kind: PrincipalKind, name: str, days: int) -> LastAccessedView:
        """When ``name`` last used each granted service; unused for ``days`` flagged."""
        _load("reports")
        from broker.tui.reports_data import last_accessed_view

        return last_accessed_view(self.config_dir, self.data_dir, kind, name, days)

    def analyzer_targets(self) -> tuple[Sequence[Target], Zone]:
        """The directory's roles to analyse and the organization as the zone of trust."""
        _load("reports")
        from broker.tui.reports_data import analyzer_targets

        return analyzer_targets(self.config_dir, self.data_dir)

    def analyze(self, target: Target, zone: Zone) -> Finding:
        """The solver's answer for one role (blocks up to the solver's timeout)."""
        from broker.tui.reports_data import analyze_target

        return analyze_target(target, zone)
