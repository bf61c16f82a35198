"""The credential chain: cached → (refresh the IdP session) → mint, each decision logged.

Like aws-vault's cached session provider: serve from the keyring while comfortably fresh (and
not revoked: cached credentials are checked against the STS's revocation rules whenever the
rules changed since the entry was last checked, see ``broker.store.revocation_stamp``);
otherwise take the profile's lock, look again (another process may have just refreshed), and
only then mint — from the stored IdP session, refreshed under the provider's lock when it has
ended. Lock order is always profile, then provider, so two helpers never deadlock.
Nothing here ever prompts: a needed sign-in is ``ReauthenticationRequired`` naming
``broker login PROVIDER``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from broker.client.freshness import LONG_WINDOW_SECONDS, is_fresh
from broker.client.mint_errors import worded_for_people
from broker.client.profiles import Profile
from broker.errors import (
    AuthenticationError,
    ProviderUnavailableError,
    ReauthenticationRequired,
    StsError,
    UsageError,
)
from broker.login_advice import LoginAdvice, plain_login_advice
from broker.minters.base import Credentials, Minter, MintRequest
from broker.store.credential_store import CachedCredentials, CredentialStore
from broker.store.revocation_stamp import may_serve
from providers.base import IdentityProvider, SignInResult

__all__ = [
    "DURATION_SLACK_SECONDS",
    "OUTAGE_FLOOR",
    "REFRESH_WINDOW",
    "SESSION_MARGIN",
    "Chain",
    "fresh_enough",
]

# botocore refreshes 15 minutes before expiry (mandatory at 10): long-lived credentials are
# re-minted this long before they end (``broker.client.freshness`` has the whole rule).
REFRESH_WINDOW = timedelta(seconds=LONG_WINDOW_SECONDS)
# A ``--duration`` request is served from the cache only if the cached credentials were minted
# for (about) that lifetime: saving takes a moment, so the recorded lifetime is a little short.
DURATION_SLACK_SECONDS = 120
# An IdP session this close to its end is refreshed before minting from it.
SESSION_MARGIN = timedelta(minutes=2)
# While the IdP is unreachable, cached credentials with more than this left are still served
# (botocore refuses credentials inside its 10-minute mandatory refresh window).
OUTAGE_FLOOR = timedelta(minutes=11)


def _now() -> datetime:
    return datetime.now(UTC)


def _quiet(_message: str) -> None:
    return None


def _never_revoked(_profile: Profile, _credentials: Credentials) -> bool:
    return False


def fresh_enough(cached: CachedCredentials | None, now: datetime) -> bool:
    """True when cached credentials can be handed out without minting: the same rule as the
    ``credential-process`` fast path (``broker.client.freshness``), on the lifetime they were
    minted with (an entry too old to record it counts as long-lived, as the fast path does)."""
    if cached is None:
        return False
    lifetime = cached.lifetime_seconds
    left = (cached.credentials.expiration - now).total_seconds()
    return is_fresh(left, LONG_WINDOW_SECONDS * 2 if lifetime is None else lifetime)


@dataclass(frozen=True)
class Chain:
    """Everything the chain needs, passed in (tests give in-test minters and providers).

    Args:
        store: the credential store.
        minter: builds the profile's minter (called only when minting).
        provider: builds a provider by name (called only when refreshing a session).
        log: one line per decision, to stderr in the CLI with ``--verbose`` (never a secret).
        warn: lines always worth telling (serving cached credentials through an IdP outage).
        now: the clock.
        revoked: whether cached credentials of a profile belong to a revoked session
            (``broker.client.revocation``; the wiring asks it for ``local``-minted profiles).
        login: how to sign in again to a provider, worded for each front end
            (``broker.login_advice``: a capture-only SAML provider needs
            ``--saml-response``); refusals carry it as their ``sign_in``.
    """

    store: CredentialStore
    minter: Callable[[Profile], Minter]
    provider: Callable[[str], IdentityProvider]
    log: Callable[[str], None] = field(default=_quiet)
    warn: Callable[[str], None] = field(default=_quiet)
    now: Callable[[], datetime] = field(default=_now)
    revoked: Callable[[Profile, Credentials], bool] = field(default=_never_revoked)
    login: LoginAdvice = field(default=plain_login_advice)

    def credentials(
        self,
        profile: Profile,
        *,
        force: bool = False,
        ride_out_outage: bool = True,
        duration: int | None = None,
        session_policy: str | None = None,
        reason: str | None = None,
    ) -> Credentials:
        """Credentials for ``profile`` with more than the refresh window left.

        This is the one locked mint step of the CLI and the TUI alike: under the profile's
        lock, look again, mint, and store through the store's crash-safe intents with the
        revocation stamp taken before the look.

        ``duration`` (``--duration``) asks for credentials minted for that many seconds
        instead of the profile's own duration: cached ones serve only if they were minted for
        about that long, else new ones are minted (and cached for the profile).

        With ``ride_out_outage``, an unreachable IdP is not an error while the cached
        credentials still have more than ``OUTAGE_FLOOR`` left (they are served, with a
        warning); the refresher turns it off so it backs off and retries instead.

        ``session_policy`` and ``reason`` go into the mint request (the TUI's mint dialog);
        with either, pass ``force``: credentials narrowed by a policy, or minted for a reason,
        are a new mint, never a cache hit.

        Raises:
            ReauthenticationRequired: no usable IdP session; the message names the login.
            StsError, AuditError: the minter refused.
            StoreError: keyring, index or lock failure.
        """
        if duration is not None and profile.minter == "aws-identity-center":
            # GetRoleCredentials takes no duration: refuse rather than hand out another length.
            raise UsageError(
                f"profile {profile.name}: IAM Identity Center sets the session length (the "
                "permission set's); drop --duration"
            )
        exact = duration is not None
        if duration is not None:
            profile = dataclasses.replace(profile, duration=duration)
        if not force:
            cached = self._usable_cache(profile, checked=True, exact=exact)
            if cached is not None:
                self.log(f"{profile.name}: cached credentials are fresh")
                return cached
        with self.store.lock("profile", profile.name):
            stamp = self.store.revocation_stamp()  # before the check: a later revoke re-checks
            cached = None if force else self._checked_cache(profile, stamp, exact=exact)
            if cached is not None:
                return cached
            try:
                identity = self.identity(profile.provider)
            except ProviderUnavailableError as exc:
                kept = self._still_usable(profile, force=force) if ride_out_outage else None
                if kept is None:
                    raise
                self.warn(f"{profile.name}: {exc}; serving the cached credentials meanwhile")
                return kept
            self.log(f"{profile.name}: minting {profile.role} in {profile.account}")
            request = MintRequest(
                account_id=profile.account,
                role_name=profile.role,
                duration_seconds=profile.duration,
                session_name=identity.claims.email or identity.claims.subject,
                session_policy=session_policy,
                reason=reason,
            )
            try:
                credentials = self.minter(profile).mint(identity, request)
            except StsError as exc:
                raise worded_for_people(exc, profile) from None
            self.store.save_credentials(
                profile.name,
                provider=profile.provider,
                account=profile.account,
                role=profile.role,
                credentials=credentials,
                stamp=stamp,
                # what is left of them by the chain's clock (the store's would be the wall's)
                lifetime_seconds=int((credentials.expiration - self.now()).total_seconds()),
                minter=profile.minter,
            )
            return credentials

    def _checked_cache(
        self, profile: Profile, stamp: str, *, exact: bool = False
    ) -> Credentials | None:
        """Under the profile's lock: the cached credentials if usable and not revoked (then
        marked checked at ``stamp``); revoked ones are removed from the store."""
        cached = self._usable_cache(profile, exact=exact)
        if cached is None:
            return None
        if self.revoked(profile, cached):
            self.log(f"{profile.name}: the cached session was revoked; minting")
            self.store.forget_profile(profile.name)
            return None
        found = self.store.cached(profile.name)
        if found is not None and found.stamp != stamp:
            self.store.restamp(profile.name, cached, stamp)
        self.log(f"{profile.name}: cached credentials are fresh")
        return cached

    def servable(self, profile: Profile) -> Credentials | None:
        """The cached credentials if they would be served now without minting: fresh, for
        this profile's role, and not revoked (checked every time)."""
        cached = self._usable_cache(profile)
        return None if cached is None or self.revoked(profile, cached) else cached

    def _still_usable(self, profile: Profile, *, force: bool) -> Credentials | None:
        """Cached credentials for this role that botocore would still accept (more than its
        10-minute mandatory window left), to ride out an IdP outage."""
        cached = None if force else self.store.credentials(profile.name)
        if cached is not None and self.revoked(profile, cached):
            return None
        row = self.store.read_index().profiles.get(profile.name)
        if (
            cached is None
            or row is None
            or (row.account, row.role)
            != (
                profile.account,
                profile.role,
            )
        ):
            return None
        return cached if cached.expiration - self.now() > OUTAGE_FLOOR else None

    def _usable_cache(
        self, profile: Profile, *, checked: bool = False, exact: bool = False
    ) -> Credentials | None:
        """Cached credentials that are fresh and were minted for this profile's current
        provider, account and role (a profile edited in ``broker.toml`` is re-minted); with
        ``checked``, only if checked against the revocation rules as they stand now; with
        ``exact``, only if minted for about ``profile.duration``."""
        found = self.store.cached(profile.name)
        if found is None or (checked and not may_serve(found.stamp, self.store.data_dir)):
            return None
        cached = found.credentials
        if not fresh_enough(found, self.now()):
            return None
        lifetime = found.lifetime_seconds
        if exact and (
            lifetime is None or not 0 <= profile.duration - lifetime <= DURATION_SLACK_SECONDS
        ):
            self.log(f"{profile.name}: cached credentials have another lifetime; minting")
            return None
        row = self.store.read_index().profiles.get(profile.name)
        if row is None or (row.provider, row.account, row.role) != (
            profile.provider,
            profile.account,
            profile.role,
        ):
            self.log(f"{profile.name}: cached credentials are for another role; minting")
            return None
        return cached

    def identity(self, provider: str) -> SignInResult:
        """The stored IdP session for ``provider``, refreshed first if it has (nearly) ended."""
        session = self.store.session(provider)
        if session is not None and session.expires_at - self.now() > SESSION_MARGIN:
            return session
        with self.store.lock("session", provider):
            session = self.store.session(provider)
            if session is None:
                raise ReauthenticationRequired(
                    f"not signed in to {provider}: ", sign_in=self.login(provider)
                )
            if session.expires_at - self.now() > SESSION_MARGIN:
                return session
            if not session.refresh_token:
                raise ReauthenticationRequired(
                    f"the {provider} session has ended: ", sign_in=self.login(provider)
                )
            self.log(f"{provider}: refreshing the sign-in session")
            try:
                renewed = self.provider(provider).refresh(session.refresh_token)
            except ReauthenticationRequired:
                raise ReauthenticationRequired(
                    f"the {provider} session was revoked or has expired: ",
                    code="invalid_grant",
                    sign_in=self.login(provider),
                ) from None
            before, after = session.claims, renewed.claims
            if (after.issuer, after.subject) != (before.issuer, before.subject):
                # OIDC Core §12.2: a refreshed ID token must name the same person. Keep nothing
                # from it, and make the person sign in again.
                raise AuthenticationError(
                    f"the {provider} IdP answered a refresh with a different identity; ",
                    sign_in=self.login(provider),
                )
            if renewed.refresh_token is None:  # no rotation: keep using the one we have
                renewed = dataclasses.replace(renewed, refresh_token=session.refresh_token)
            self.store.save_session(provider, renewed)
            return renewed
