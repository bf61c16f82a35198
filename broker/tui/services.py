"""The one adapter between the screens and the headless core (a facade: the work is in
``directory_data``, ``audit_data``, ``sessions_data``, ``session_ops`` and ``reports_data``).

Screens never import the core directly: they call these functions from workers (they block on
I/O) and get the project's own values back (``broker.tui.model``) or a ``BrokerError``.

No Textual here, so the adapter can be exercised without an app.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from broker.errors import ConfigError, StoreError
from broker.tui.model import DirectoryTables, MintChoice, MintOutcome, PortalRole, SessionRow

if TYPE_CHECKING:
    from broker.analyzer.targets import Target, Zone
    from broker.client.profiles import Profile
    from broker.client.refresher_status import StatusView
    from broker.sts.state_handle import StateHandle
    from broker.tui.reports_data import Finding, LastAccessedView, PrincipalKind
    from providers.base import SignInResult, SignInUI

__all__ = [
    "ProviderChoice",
    "Services",
]


@dataclass(frozen=True)
class ProviderChoice:
    """A configured identity provider, as the sign-in screen lists it."""

    name: str
    kind: str
    default: bool
    captured: bool = False  # an aws_federation SAML provider: its response is pasted in


class Services:
    """Everything the app asks of the core, for one configuration directory and one state.

    The app resolves both once (``broker.tui.app.app_services``) and closes the state when it
    exits (``close``); every operation here shares that one state, opened on first need.
    """

    def __init__(self, config_dir: Path, state: StateHandle) -> None:
        self.config_dir = config_dir
        self.state = state
        self.data_dir = state.data_dir

    def close(self) -> None:
        """Close the app's state (if an operation opened it)."""
        self.state.close()

    def providers(self) -> list[ProviderChoice]:
        """The providers configured in ``broker.toml``, the default first.

        Raises:
            ConfigError: ``broker.toml`` cannot be read or a provider table is malformed.
        """
        from broker.config import load_config
        from broker.config.providers import default_provider, provider_tables

        config = load_config(self.config_dir)
        default = default_provider(config)
        choices = []
        for name, settings in provider_tables(config).items():
            kind = settings.get("type")
            if not isinstance(kind, str):
                raise ConfigError(f"{config.file}: providers.{name}.type: required key is missing")
            captured = kind == "saml" and settings.get("aws_federation") is True
            choices.append(ProviderChoice(name, kind, name == default, captured))
        return sorted(choices, key=lambda c: (not c.default, c.name))

    def sign_in(
        self,
        provider: str,
        ui: SignInUI,
        *,
        device: bool = False,
        user_hint: str | None = None,
        saml_response: str | None = None,
    ) -> SignInResult:
        """Sign in through ``provider`` and keep the session in the store (blocks until the
        person finishes or it times out), exactly as ``broker login`` does; with
        ``saml_response``, as ``broker login --saml-response`` does.

        Raises:
            ProviderError: the IdP refused or failed; StoreError: no usable keyring.
        """
        from broker.config import load_config
        from broker.signin import LoginInput, provider_builder, run_login
        from broker.store import CredentialStore

        config = load_config(self.config_dir)
        store = CredentialStore(self.data_dir)
        built = provider_builder(config, store)
        try:
            run_login(
                LoginInput(
                    provider=provider,
                    device=device,
                    user_hint=user_hint,
                    saml_response=saml_response,
                ),
                store=store,
                build=built,
                ui=ui,
            )
        finally:
            built.close()  # the provider's HTTP client (or embedded issuer) is this call's
        session: SignInResult | None = store.session(provider)
        if session is None:
            from broker.login_advice import plain_login_advice

            raise StoreError(
                f"the sign-in to {provider} was not kept in the store; ",
                sign_in=plain_login_advice(provider),
            )
        return session

    def mint(
        self,
        identity: SignInResult,
        role: PortalRole,
        choice: MintChoice,
        read_code: Callable[[Profile], str] | None = None,
    ) -> MintOutcome:
        """Mint credentials for ``role`` and keep them in the store under its profile name
        (``broker.tui.session_ops.mint_profile``); the reason goes to the mint's audit event.
        An ``mfa_serial`` profile's code comes from ``read_code`` (the app's dialog)."""
        from broker.tui.session_ops import mint_profile

        return mint_profile(self.config_dir, self.state, identity, role, choice, read_code)

    def portal_roles(self, identity: SignInResult) -> list[PortalRole]:
        """The roles ``identity`` may use (``directory_data.portal_roles``)."""
        from broker.tui import directory_data  # not needed by the first paint

        return directory_data.portal_roles(self.config_dir, self.state, identity)

    def directory_tables(self) -> DirectoryTables:
        """Users, groups, accounts and permission sets, for the admin view."""
        from broker.tui import directory_data  # not needed by the first paint

        return directory_data.directory_tables(self.config_dir, self.state)

    def effective_access(self, user_name: str) -> list[tuple[str, str, str]]:
        """``(account, permission set, via)`` for everything ``user_name`` may use."""
        from broker.tui import directory_data  # not needed by the first paint

        return directory_data.effective_access(self.config_dir, self.state, user_name)

    def simulation_principals(self) -> list[tuple[str, str]]:
        """Every person's role on every account, as ``(label, key)`` for the simulator."""
        from broker.tui import directory_data  # not needed by the first paint

        return directory_data.simulation_principals(self.config_dir, self.state)

    def simulation_form(self, key: str) -> dict[str, Any]:
        """The simulator's fields for a person's session in a role."""
        from broker.tui import directory_data  # not needed by the first paint

        return directory_data.simulation_form(self.config_dir, self.state, key)

    def demo_users(self) -> list[tuple[str, str]]:
        """The embedded IdP's demo users, for the first-run welcome: ``(user, what they get)``."""
        embedded = [c.name for c in self.providers() if c.kind == "embedded"]
        if not embedded:
            return []
        from broker.tui import directory_data  # not needed by the first paint

        return directory_data.demo_users(self.config_dir, self.state, embedded)

    def audit(self, query: str = "") -> tuple[str, list[tuple[str, ...]]]:
        """The chain's status and the events ``query`` keeps, newest first (``audit_data``).

        Raises:
            UsageError: an unknown filter word.
        """
        from broker.tui.audit_data import audit_rows

        return audit_rows(self.state, query)

    def sessions(self) -> list[SessionRow]:
        """Every cached profile, from the store's index (no secrets, no keyring read)."""
        from broker.tui.sessions_data import session_rows

        return session_rows(self.config_dir, self.state)

    def refresher(self, now: datetime) -> StatusView:
        """Whether ``broker refresh --watch`` runs, from its status record.

        Raises:
            StoreError: the record is readable by others or damaged.
        """
        from broker.client.refresher_status import read_status

        return read_status(self.data_dir, now)

    def refresh(
        self, profiles: list[str], read_code: Callable[[Profile], str] | None = None
    ) -> list[str]:
        """Re-mint ``profiles`` now through the chain ``credential-process`` uses; an
        ``mfa_serial`` profile's code comes from ``read_code`` (the app's dialog)."""
        from broker.tui.session_ops import refresh_profiles

        return refresh_profiles(self.config_dir, self.state, profiles, read_code)

    def console_url(self, profile: str) -> str:
        """The AWS console sign-in URL for ``profile``'s session (a bearer secret for 15 min:
        show it, never log it).

        Raises:
            NoConsoleError (a ``UsageError``): the local minter's sessions have no console.
            StsError: AWS or the federation endpoint refused; ConfigError: no such profile.
        """
        from broker.client.console_session import console_url

        return console_url(profile, config_dir=self.config_dir, state=self.state)

    def revoke(self, profile: str) -> bool:
        """Revoke the local STS session behind ``profile`` and forget its credentials."""
        from broker.tui.session_ops import revoke_profile

        return revoke_profile(self.state, profile)

    # Reports (the credential report, last accessed, the analyzer); shaping lives in reports_data.

    def credential_report(self) -> list[dict[str, str]]:
        """IAM's credential report for the directory, one dict per row (no secrets)."""
        from broker.tui.reports_data import credential_rows

        return credential_rows(self.config_dir, self.state)

    def last_accessed(self, kind: PrincipalKind, name: str, days: int) -> LastAccessedView:
        """When ``name`` last used each granted service; unused for ``days`` flagged."""
        from broker.tui.reports_data import last_accessed_view

        return last_accessed_view(self.config_dir, self.state, kind, name, days)

    def analyzer_targets(self) -> tuple[Sequence[Target], Zone]:
        """The directory's roles to analyse and the organization as the zone of trust."""
        from broker.tui.reports_data import analyzer_targets

        return analyzer_targets(self.config_dir, self.state)

    def analyze(self, target: Target, zone: Zone) -> Finding:
        """The solver's answer for one role (blocks until z3 decides or spends its budget)."""
        from broker.tui.reports_data import analyze_target

        return analyze_target(target, zone)
