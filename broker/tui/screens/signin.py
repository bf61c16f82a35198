"""Sign in: the configured providers; browser flow with live status; the device flow with the
verification URI, the user code large, a QR code, and an expiry countdown (RFC 8628 §3.3.1)."""

from __future__ import annotations

import io
import os
import time
import webbrowser
from typing import ClassVar, Protocol

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from broker.errors import BrokerError
from broker.tui.screens.base import BrokerScreen
from broker.tui.services import ProviderChoice
from broker.tui.widgets.status import FlashLevel
from providers.base import SignInResult

__all__ = ["SignInScreen", "TuiSignInUI", "qr_text"]


def qr_text(uri: str) -> str:
    """A compact Unicode QR code of ``uri`` (two modules per character cell)."""
    import segno

    buffer = io.StringIO()
    segno.make(uri, error="L").terminal(out=buffer, compact=True, border=1)
    return buffer.getvalue().rstrip("\n")


class SignInView(Protocol):
    """What a screen shows during a sign-in (the sign-in screen, the provider setup's test)."""

    def show_url(self, url: str) -> None: ...

    def show_device_code(
        self, verification_uri: str, user_code: str, complete_uri: str | None, expires_in: int
    ) -> None: ...

    def show_status(self, message: str) -> None: ...


class TuiSignInUI:
    """The provider's ``SignInUI``, called from the sign-in worker thread; it hands every update
    to the screen on the app's thread."""

    def __init__(self, app: App[object], screen: SignInView) -> None:
        self.app = app
        self.screen = screen

    def open_url(self, url: str) -> bool:
        self.app.call_from_thread(self.screen.show_url, url)
        if os.environ.get("SSH_CONNECTION"):
            return False  # never open a browser on the far side of SSH (gh cli #13445)
        try:
            return webbrowser.open(url)
        except webbrowser.Error:
            return False

    def show_device_code(
        self, verification_uri: str, user_code: str, complete_uri: str | None, expires_in: int
    ) -> None:
        self.app.call_from_thread(
            self.screen.show_device_code, verification_uri, user_code, complete_uri, expires_in
        )

    def status(self, message: str) -> None:
        self.app.call_from_thread(self.screen.show_status, message)


class SignInScreen(BrokerScreen):
    """Sign in through one of the configured identity providers."""

    CRUMB = "Sign in"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "browser", "browser sign-in", show=True),
        Binding("d", "device", "device code"),
        Binding("c", "copy_code", "copy code", show=False),
        Binding("o", "open", "open browser", show=False),
        Binding("escape,h,q", "back", "back"),
    ]

    def __init__(self, provider: str | None = None, *, start: bool = False) -> None:
        """``provider`` is chosen first (the default provider otherwise); with ``start``, its
        sign-in starts at once (``s`` after an error that said to sign in to it again)."""
        super().__init__()
        self.wanted = provider
        self.start_at_once = start
        self.choices: list[ProviderChoice] = []
        self.user_code: str | None = None
        self.device_uri: str | None = None
        self.deadline: float | None = None

    def compose_body(self) -> ComposeResult:
        yield Static("Sign in — choose an identity provider", classes="view-title")
        with Horizontal(id="signin-body"):
            yield OptionList(id="providers")
            with Vertical(id="signin-flow"):
                yield Static("", id="signin-status", markup=False)
                yield Static("", id="device-uri", markup=False)
                yield Static("", id="device-code", markup=False)
                yield Static("", id="device-expiry", markup=False)
                yield Static("", id="device-qr", markup=False)

    def on_mount(self) -> None:
        options = self.query_one("#providers", OptionList)
        try:
            self.choices = self.broker.services.providers()
        except BrokerError as exc:
            self.flash(str(exc), FlashLevel.ERROR)
            return
        for choice in self.choices:
            default = " (default)" if choice.default else ""
            kind = f"{choice.kind} · paste" if choice.captured else choice.kind
            label = Text(f"{choice.name}  [{kind}]{default}")
            options.add_option(Option(label, id=choice.name))
        if self.choices:
            names = [choice.name for choice in self.choices]
            options.highlighted = names.index(self.wanted) if self.wanted in names else 0
        options.focus()
        self.set_interval(1.0, self._tick)
        if self.start_at_once and self.wanted is not None:
            if self.wanted in [choice.name for choice in self.choices]:
                self.call_after_refresh(self.action_browser)
            else:
                self.flash(
                    f"{self.wanted} is no longer in broker.toml — pick another provider.",
                    FlashLevel.WARNING,
                )

    def _chosen(self) -> ProviderChoice | None:
        index = self.query_one("#providers", OptionList).highlighted
        return self.choices[index] if index is not None and index < len(self.choices) else None

    @on(OptionList.OptionSelected, "#providers")
    def _selected(self) -> None:
        self.action_browser()

    def action_browser(self) -> None:
        self._start(device=False)

    def action_device(self) -> None:
        self._start(device=True)

    def _start(self, *, device: bool) -> None:
        choice = self._chosen()
        if choice is None:
            self.flash(
                "No identity provider configured — add one to broker.toml.", FlashLevel.ERROR
            )
            return
        if choice.kind == "embedded" and not device:
            self._pick_demo_user(choice.name)
            return
        if choice.captured:  # its IdP posts to AWS: the response is pasted, never sent to us
            self._paste_response(choice.name)
            return
        self.show_status(f"Signing in through {choice.name}…")
        self.sign_in(choice.name, device)

    def _pick_demo_user(self, provider: str) -> None:
        """The embedded IdP signs in a demo user: pick one (docs/tui.md §10)."""
        from broker.tui.screens.picker import Picker

        try:
            users = self.broker.services.demo_users()
        except BrokerError as exc:
            self.flash(str(exc), FlashLevel.ERROR)
            return

        def picked(chosen: tuple[str, str] | None) -> None:
            if chosen is not None:
                self.show_status(f"Signing in as {chosen[1]} through {provider}…")
                self.sign_in(provider, False, chosen[1])

        items = [(f"{name} · {what}", name) for name, what in users]
        self.app.push_screen(Picker(f"Sign in to {provider} as", items), picked)

    def _paste_response(self, provider: str) -> None:
        """An ``aws_federation`` SAML provider: the captured response, pasted (README)."""
        from broker.tui.screens.saml_capture import SamlCaptureModal

        def pasted(value: str | None) -> None:
            if value is not None:
                self.show_status(f"Checking the SAML response for {provider}…")
                self.sign_in(provider, False, saml_response=value)

        modal = SamlCaptureModal(provider, ascii_only=self.broker.options.ascii_only)
        self.app.push_screen(modal, pasted)

    @work(exclusive=True, exit_on_error=False, thread=True, description="Signing in")
    def sign_in(
        self,
        provider: str,
        device: bool,
        user_hint: str | None = None,
        saml_response: str | None = None,
    ) -> None:
        ui = TuiSignInUI(self.app, self)
        result = self.broker.services.sign_in(
            provider, ui, device=device, user_hint=user_hint, saml_response=saml_response
        )
        self.deliver(self._done, provider, result)

    def _done(self, provider: str, result: SignInResult) -> None:
        self.broker.signed_in(provider, result)
        claims = result.claims
        self.broker.go("portal")
        from broker.tui.screens.portal import PortalScreen

        portal = self.app.screen
        if isinstance(portal, PortalScreen):
            portal.flash(f"Signed in as {claims.email or claims.subject} through {provider}")
            portal.load_roles()

    # -- what the provider shows ----------------------------------------------------------------
    def show_status(self, message: str) -> None:
        self.query_one("#signin-status", Static).update(message)

    def show_url(self, url: str) -> None:
        if self.user_code is not None:
            return  # the device panel already shows the address with its code
        self.device_uri = url
        self.query_one("#device-uri", Static).update(f"Open: {url}")

    def show_device_code(
        self, verification_uri: str, user_code: str, complete_uri: str | None, expires_in: int
    ) -> None:
        self.user_code = user_code
        self.device_uri = complete_uri or verification_uri
        self.deadline = time.monotonic() + expires_in
        self.query_one("#device-uri", Static).update(
            f"Open {complete_uri or verification_uri}\nand check the code matches:"
        )
        self.query_one("#device-code", Static).update(f"  {user_code}  ")
        self.query_one("#device-qr", Static).update(qr_text(complete_uri or verification_uri))
        self.show_status("Waiting for approval…  c copies the code, o opens a browser")
        self._tick()

    def _tick(self) -> None:
        if self.deadline is None:
            return
        left = int(self.deadline - time.monotonic())
        text = f"code expires in {left // 60}m {left % 60:02d}s" if left > 0 else "code expired"
        self.query_one("#device-expiry", Static).update(text)

    def action_copy_code(self) -> None:
        if self.user_code:
            self.broker.copy("device code", self.user_code)

    def action_open(self) -> None:
        if self.device_uri:
            if os.environ.get("SSH_CONNECTION"):
                self.flash("Over SSH: open the address on your own machine.", FlashLevel.WARNING)
                return
            webbrowser.open(self.device_uri)

    def action_back(self) -> None:
        self.workers.cancel_all()
        self.app.pop_screen()
