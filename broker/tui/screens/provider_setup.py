"""``:providers``: add the company's sign-in without writing TOML by hand.

OIDC: the issuer URL (enter checks its discovery document live), then the client id. SAML: the
IdP's metadata URL or file (enter reads it), then our SP metadata to hand to the IdP's
administrator (``ctrl+y`` copies it). Then ``ctrl+t`` signs in once with the draft (nothing is
kept), and the identity mapping (which claim is the user, which groups map to which directory
groups) previews what that person would get. ``ctrl+s`` writes ``[providers.<name>]`` and
``[identity.<name>]`` with backups and checks the result as ``broker config validate`` does.
The work itself is in ``broker.tui.provider_setup``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Input, Label, Select, Static, TextArea

from broker.errors import BrokerError
from broker.tui.screens.base import BrokerScreen
from broker.tui.widgets.status import FlashLevel

if TYPE_CHECKING:
    from broker.tui.provider_setup import Draft, IdentityMapping, OidcDiscovery, SamlIdp
    from providers.base import SignInResult

__all__ = ["ProviderSetupScreen", "parse_group_map"]

_KINDS: list[tuple[str, str]] = [("OIDC (issuer URL)", "oidc"), ("SAML 2.0 (IdP metadata)", "saml")]
_USER_CLAIMS: list[tuple[str, str]] = [
    ("email (matched to directory emails)", "email"),
    ("sub (matched to directory user names)", "sub"),
    ("SAML NameID (matched to emails)", "name_id"),
]


def parse_group_map(text: str) -> dict[str, str]:
    """``idp-group=directory-group, …`` as a mapping.

    Raises:
        ValueError: an entry is not ``a=b``.
    """
    mapping: dict[str, str] = {}
    for entry in filter(None, (part.strip() for part in text.replace("\n", ",").split(","))):
        idp, sep, ours = entry.partition("=")
        if not sep or not idp.strip() or not ours.strip():
            raise ValueError(f"group map entry {entry!r}: write idp-group=directory-group")
        mapping[idp.strip()] = ours.strip()
    return mapping


class ProviderSetupScreen(BrokerScreen):
    """Guided provider setup: check the IdP, sign in once, map the person, write the config."""

    CRUMB = "Providers"
    AUTO_FOCUS = "#setup-name"  # the first step has the focus from the first frame
    TITLE_TEXT: ClassVar[str] = "Add a sign-in provider — ctrl+t test sign-in · ctrl+s write"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+t", "test_sign_in", "test sign-in", priority=True),
        Binding("ctrl+s", "write", "write config", priority=True),
        Binding("ctrl+y", "copy_sp_metadata", "copy SP metadata", priority=True),
        Binding("escape", "back", "back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.discovery: OidcDiscovery | None = None
        self.idp: SamlIdp | None = None
        self.signed_in: SignInResult | None = None

    def compose_body(self) -> ComposeResult:
        yield Static(self.TITLE_TEXT, id="view-title", classes="view-title")
        with VerticalScroll(id="setup"):
            with Horizontal(classes="setup-row"):
                yield Select(_KINDS, value="oidc", allow_blank=False, id="setup-kind")
                yield Input(placeholder="name, e.g. corp", id="setup-name")
            with Vertical(id="setup-oidc"):
                yield Label("1. Issuer URL (enter checks its discovery document now)")
                yield Input(placeholder="https://login.example.com", id="setup-issuer")
                yield Static("", id="discovery-result", markup=False)
                yield Label("2. Client id registered at the IdP (public client, PKCE)")
                yield Input(placeholder="client id", id="setup-client-id")
            with Vertical(id="setup-saml"):
                yield Label("1. IdP metadata: URL or file (enter reads it)")
                yield Input(placeholder="https://idp.example.com/metadata or ~/idp.xml",
                            id="setup-metadata")  # fmt: skip
                yield Static("", id="metadata-result", markup=False)
                yield Label("2. Our SP metadata, for the IdP's administrator (ctrl+y copies)")
                yield Input(placeholder="our entity id (default urn:access-broker:<name>)",
                            id="setup-sp-entity")  # fmt: skip
                yield TextArea("", read_only=True, id="sp-metadata", language=None)
            yield Label("3. Test sign-in: ctrl+t (nothing is kept)")
            yield Static("", id="signin-result", markup=False)
            yield Label("4. Identity mapping: which claim is the user, how groups map")
            with Horizontal(classes="setup-row"):
                yield Select(_USER_CLAIMS, value="email", allow_blank=False, id="setup-user-claim")
                yield Input("groups", placeholder="groups claim", id="setup-groups-claim")
            yield Input(placeholder="group map: idp-group=directory-group, … (enter previews)",
                        id="setup-group-map")  # fmt: skip
            yield Static("", id="preview", markup=False)
            yield Static("", id="write-result", markup=False)
        yield Static("", id="view-body", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#view-body", Static).display = False
        self._show_kind("oidc")

    # -- what the test sign-in shows (``signin.SignInView``) -------------------------------------
    def show_url(self, url: str) -> None:
        self.say("#signin-result", f"Sign in at: {url}")

    def show_device_code(
        self, verification_uri: str, user_code: str, complete_uri: str | None, expires_in: int
    ) -> None:
        self.say("#signin-result", f"Open {complete_uri or verification_uri}, enter {user_code}")

    def show_status(self, message: str) -> None:
        self.say("#signin-result", message)

    # -- helpers ------------------------------------------------------------------------------
    def say(self, target: str, text: str) -> None:
        """Show a step's outcome and scroll it into view (the form is taller than 24 rows)."""
        widget = self.query_one(target, Static)
        widget.update(text)
        widget.scroll_visible(animate=False)

    def _value(self, selector: str) -> str:
        return self.query_one(selector, Input).value.strip()

    def _kind(self) -> Literal["oidc", "saml"]:
        return "saml" if self.query_one("#setup-kind", Select).value == "saml" else "oidc"

    def _show_kind(self, kind: str) -> None:
        self.query_one("#setup-oidc").display = kind == "oidc"
        self.query_one("#setup-saml").display = kind == "saml"

    @on(Select.Changed, "#setup-kind")
    def _kind_changed(self, event: Select.Changed) -> None:
        self._show_kind(str(event.value))

    def draft(self) -> Draft:
        """The provider as the form describes it.

        Raises:
            BrokerError: a step is missing (the message names it).
        """
        from broker.errors import UsageError
        from broker.tui.provider_setup import Draft

        name = self._value("#setup-name")
        if not name:
            raise UsageError("name the provider first (e.g. corp)")
        if self._kind() == "oidc":
            if self.discovery is None:
                raise UsageError("check the issuer first: type its URL and press enter")
            client_id = self._value("#setup-client-id")
            if not client_id:
                raise UsageError("give the client id registered at the IdP")
            table: dict[str, object] = {
                "type": "oidc",
                "issuer": self.discovery.issuer,
                "client_id": client_id,
                "groups_claim": self._value("#setup-groups-claim") or "groups",
            }
            if "groups" in self.discovery.scopes_supported:  # the IdP sends groups on request
                table["scopes"] = ["openid", "email", "profile", "offline_access", "groups"]
            return Draft(name, "oidc", table)
        if self.idp is None:
            raise UsageError("read the IdP metadata first: type its URL or file and press enter")
        table = {
            "type": "saml",
            "idp_entity_id": self.idp.entity_id,
            "sso_url": self.idp.sso_url,
            "idp_certificate": f"saml/{name}.xml",
            "sp_entity_id": self._sp_entity(),
            "groups_attribute": self._value("#setup-groups-claim") or "groups",
        }
        return Draft(name, "saml", table, self.idp.xml)

    def _sp_entity(self) -> str:
        return self._value("#setup-sp-entity") or f"urn:access-broker:{self._value('#setup-name')}"

    def mapping(self) -> IdentityMapping:
        from broker.errors import UsageError
        from broker.tui.provider_setup import IdentityMapping

        claim = str(self.query_one("#setup-user-claim", Select).value)
        try:
            groups = parse_group_map(self._value("#setup-group-map"))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        return IdentityMapping(
            user_claim=claim,
            match_on="name" if claim == "sub" else "email",
            groups_claim=self._value("#setup-groups-claim") or "groups",
            group_map=groups,
        )

    # -- step 1 -------------------------------------------------------------------------------
    @on(Input.Submitted, "#setup-name")
    def _name_entered(self) -> None:
        step = "#setup-issuer" if self._kind() == "oidc" else "#setup-metadata"
        self.query_one(step, Input).focus()

    @on(Input.Submitted, "#setup-issuer")
    def _issuer_entered(self) -> None:
        self.discovery = None
        self.say("#discovery-result", "Checking discovery…")
        self.check_issuer(self._value("#setup-issuer"))

    @work(exclusive=True, group="setup-discovery", exit_on_error=False, thread=True,
          description="Checking the issuer's discovery document")  # fmt: skip
    def check_issuer(self, issuer: str) -> None:
        from broker.tui.provider_setup import discover_oidc

        try:
            found = discover_oidc(issuer)
        except BrokerError as exc:
            self.deliver(self.say, "#discovery-result", f"✗ {exc}")
            return
        self.deliver(self._discovered, found)

    def _discovered(self, found: OidcDiscovery) -> None:
        self.discovery = found
        device = "yes" if found.device_endpoint else "no"
        self.say(
            "#discovery-result",
            f"✓ discovery checked: issuer {found.issuer}\n"
            f"  sign-in at {found.authorization_endpoint} · device flow: {device}",
        )
        self.query_one("#setup-client-id", Input).focus()

    @on(Input.Submitted, "#setup-metadata")
    def _metadata_entered(self) -> None:
        self.idp = None
        self.say("#metadata-result", "Reading the IdP metadata…")
        self.read_metadata(self._value("#setup-metadata"))

    @work(exclusive=True, group="setup-metadata", exit_on_error=False, thread=True,
          description="Reading the IdP metadata")  # fmt: skip
    def read_metadata(self, source: str) -> None:
        from broker.tui.provider_setup import read_saml_metadata

        try:
            idp = read_saml_metadata(source)
        except BrokerError as exc:
            self.deliver(self.say, "#metadata-result", f"✗ {exc}")
            return
        self.deliver(self._metadata_read, idp)

    def _metadata_read(self, idp: SamlIdp) -> None:
        self.idp = idp
        self.say(
            "#metadata-result",
            f"✓ IdP {idp.entity_id}\n  single sign-on {idp.sso_url} · "
            f"{idp.certificates} signing certificate(s)",
        )
        self._refresh_sp_metadata()

    @on(Input.Changed, "#setup-sp-entity")
    @on(Input.Changed, "#setup-name")
    def _refresh_sp_metadata(self) -> None:
        from broker.tui.provider_setup import sp_metadata_for

        if self._value("#setup-name"):
            self.query_one("#sp-metadata", TextArea).text = sp_metadata_for(self._sp_entity())

    def action_copy_sp_metadata(self) -> None:
        text = self.query_one("#sp-metadata", TextArea).text
        if not text:
            self.flash("Name the provider first; its SP metadata appears here.")
            return
        self.broker.copy("SP metadata", text)

    # -- step 3: test sign-in -----------------------------------------------------------------
    def action_test_sign_in(self) -> None:
        try:
            draft = self.draft()
        except BrokerError as exc:
            self.flash(str(exc), FlashLevel.WARNING)
            return
        self.signed_in = None
        self.say("#signin-result", "Signing in…")
        self.test_sign_in(draft)

    @work(exclusive=True, group="setup-signin", exit_on_error=False, thread=True,
          description="Test sign-in")  # fmt: skip
    def test_sign_in(self, draft: Draft) -> None:
        from broker.tui.provider_setup import sign_in_once
        from broker.tui.screens.signin import TuiSignInUI

        services = self.broker.services
        try:
            result = sign_in_once(services.config_dir, services.data_dir, draft,
                                  TuiSignInUI(self.app, self))  # fmt: skip
        except BrokerError as exc:
            self.deliver(self.say, "#signin-result", f"✗ Sign-in failed: {exc}")
            return
        self.deliver(self._signed_in, result)

    def _signed_in(self, result: SignInResult) -> None:
        self.signed_in = result
        claims = result.claims
        mfa = "yes" if claims.mfa else "no"
        amr = f" ({', '.join(claims.amr)})" if claims.amr else ""
        self.say(
            "#signin-result",
            f"✓ Signed in: sub {claims.subject} · email {claims.email or '-'}\n"
            f"  groups: {', '.join(claims.groups) or 'none'} · sign-in MFA (amr): {mfa}{amr}",
        )
        self.preview()

    # -- step 4: mapping preview --------------------------------------------------------------
    @on(Input.Submitted, "#setup-group-map")
    @on(Input.Submitted, "#setup-groups-claim")
    @on(Select.Changed, "#setup-user-claim")
    def preview(self) -> None:
        if self.signed_in is None:
            self.say("#preview", "Sign in once (ctrl+t) to preview what the person would get.")
            return
        try:
            draft, mapping = self.draft(), self.mapping()
        except BrokerError as exc:
            self.say("#preview", f"✗ {exc}")
            return
        self.say("#preview", "Previewing…")
        self.run_preview(draft, mapping, self.signed_in)

    @work(exclusive=True, group="setup-preview", exit_on_error=False, thread=True,
          description="Previewing assignments")  # fmt: skip
    def run_preview(self, draft: Draft, mapping: IdentityMapping, result: SignInResult) -> None:
        from broker.tui.provider_setup import preview_assignments

        try:
            lines = preview_assignments(self.broker.services.config_dir, draft, mapping,
                                        result.claims)  # fmt: skip
        except BrokerError as exc:
            self.deliver(self.say, "#preview", f"✗ {exc}")
            return
        self.deliver(self.say, "#preview", "Would get:\n  " + "\n  ".join(lines))

    # -- write --------------------------------------------------------------------------------
    def action_write(self) -> None:
        try:
            draft, mapping = self.draft(), self.mapping()
        except BrokerError as exc:
            self.flash(str(exc), FlashLevel.WARNING)
            return
        self.write(draft, mapping)

    @work(exclusive=True, group="setup-write", exit_on_error=False, thread=True,
          description="Writing the configuration")  # fmt: skip
    def write(self, draft: Draft, mapping: IdentityMapping) -> None:
        from broker.tui.provider_setup import write_setup

        try:
            backups = write_setup(self.broker.services.config_dir, draft, mapping)
        except BrokerError as exc:
            self.deliver(self.say, "#write-result", f"✗ {exc}")
            return
        kept = ", ".join(str(b) for b in backups) or "none (new files)"
        self.deliver(
            self.say,
            "#write-result",
            f"✓ Wrote [providers.{draft.name}] and [identity.{draft.name}]; "
            f"broker config validate finds no error. Backups: {kept}. "
            f"Sign in with :signin.",
        )
