"""The Textual app: wiring only. Screens live in ``screens/``, widgets in ``widgets/``, style in
``app.tcss``, and everything the app asks of the core goes through ``services``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from broker.errors import BrokerError, UsageError
from broker.tui.live_sessions import LiveSessions
from broker.tui.model import PortalRole, SessionRow
from broker.tui.options import MIN_HEIGHT, MIN_WIDTH, TuiOptions
from broker.tui.services import Services
from broker.tui.state import TuiState, load_state, save_state
from broker.tui.themes import DEFAULT_THEME, THEME_NAMES, THEMES
from broker.tui.views import VIEWS, parse_command
from broker.tui.widgets.header import HeaderFacts

if TYPE_CHECKING:
    from broker.sts.state_handle import StateOpener
    from broker.tui.config_check import ConfigIssue
    from providers.base import SignInResult

__all__ = ["BrokerApp", "run"]


class BrokerApp(App[int]):
    """``broker`` with no arguments."""

    CSS_PATH = "app.tcss"
    TITLE = "broker"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "quit", show=False, priority=True),
        Binding(
            "question_mark",
            "help",
            "help",
            tooltip="this help: every key, colour legend",
        ),
        Binding(
            "f1",
            "widget_help",
            "widget help",
            show=False,
            tooltip="help for the focused widget: what it is, its keys",
        ),
        Binding(
            "colon",
            "command_line",
            "cmd",
            tooltip="commands: :portal :sessions :sim :audit :users :reports :signin",
        ),
        # Where a screen has no ``s`` of its own: an error fixed by a new sign-in names this
        # key on any screen. Help lists it once, under the portal (``system`` keeps it out of
        # "Everywhere", whose rows fill the first page at 100×30).
        Binding("s", "sign_in", "sign in", show=False, system=True),
        Binding(
            "p",
            "show_copied",
            "show copied",
            show=False,
            tooltip="show the last copied text (printed to stdout on exit)",
        ),
        Binding(
            "exclamation_mark",
            "config_errors",
            "config errors",
            show=False,
            tooltip="configuration errors, at file:line:column",
        ),
        Binding(
            "ctrl+o",
            "jump_mode",
            "jump",
            show=False,
            tooltip="jump mode: a letter on every pane; type it to go there",
        ),
    ]

    def __init__(
        self,
        services: Services,
        options: TuiOptions | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.options = options or TuiOptions()
        forced = self.options.no_color and "NO_COLOR" not in os.environ
        if forced:
            os.environ["NO_COLOR"] = "1"  # Textual reads it only while the app is built
        try:
            super().__init__()
        finally:
            if forced:
                del os.environ["NO_COLOR"]
        self.services = services
        self.clock = clock or (lambda: datetime.now(UTC))
        self.tui_state: TuiState = load_state(services.data_dir)
        self.identity: SignInResult | None = None
        self.provider_name: str | None = None
        self._started = False
        self.last_copied: str | None = None
        self.print_on_exit: str | None = None
        self.live = LiveSessions()  # the store's index, for the header and countdowns
        # The provider the last error said to sign in to again (``s`` opens its sign-in).
        self.sign_in_needed: str | None = None
        self.config_issues: list[ConfigIssue] = []  # the errors of the last configuration check
        # Themes are chosen before the app runs: set in ``on_mount`` the change would parse the
        # whole stylesheet a second time before the first paint.
        for theme in THEMES:
            self.register_theme(theme)
        wanted = self.tui_state.theme
        self.theme = wanted if wanted in THEME_NAMES else DEFAULT_THEME

    # -- lifecycle ----------------------------------------------------------------------------
    def on_unmount(self) -> None:
        """The app's one state is closed as the app exits (it is opened on first need)."""
        self.services.close()

    def on_mount(self) -> None:
        from broker.tui.screens.portal import PortalScreen

        self.push_screen(PortalScreen())
        if not self.tui_state.welcome_seen:
            from broker.tui.screens.welcome import WelcomeScreen

            self.push_screen(WelcomeScreen())
        self._started = True
        self.check_size(self.size.width, self.size.height)
        self.set_interval(1.0, self.tick)
        # Neither the store's index nor the configuration check is on the first screen: both
        # run once that screen is painted; so does picking up a stored sign-in.
        self.call_after_refresh(self.load_sessions)
        self.call_after_refresh(self.check_configuration)
        self.call_after_refresh(self.load_stored_identity)

    @work(exclusive=True, group="identity", exit_on_error=False, thread=True)
    def load_stored_identity(self) -> None:
        """Start signed in when the store holds a live session (``broker login`` made one)."""
        from broker.tui.stored_identity import stored_identity

        try:
            found = stored_identity(self.services.config_dir, self.services.data_dir, self.clock())
        except BrokerError:
            return  # the sign-in screen and Sessions view report store problems
        if found is not None:
            self.call_from_thread(self._resume_identity, *found)

    def _resume_identity(self, provider: str, result: SignInResult) -> None:
        if self.identity is not None:
            return  # signed in meanwhile on the sign-in screen
        self.signed_in(provider, result)
        from broker.tui.screens.portal import PortalScreen

        for screen in self.screen_stack:
            if isinstance(screen, PortalScreen) and screen.is_mounted:
                screen.load_roles()

    @work(exclusive=True, group="sessions", exit_on_error=False, thread=True)
    def load_sessions(self) -> None:
        """Read the store's index (no keyring) for the header's count and the countdowns."""
        try:
            rows = self.services.sessions()
        except BrokerError:
            return  # the Sessions view reports store problems; the header just shows none
        self.call_from_thread(self.set_live_sessions, rows)

    @work(exclusive=True, group="config-check", exit_on_error=False, thread=True)
    def check_configuration(self) -> None:
        """Validate the configuration as ``broker config validate`` does; errors are shown."""
        from broker.tui.config_check import ConfigIssue, check_config

        directory = self.services.config_dir
        try:
            issues = check_config(directory)
        except BrokerError as exc:  # the check itself could not run: that is shown too
            issues = [ConfigIssue(str(directory / "broker.toml"), 0, 0, "error", "", str(exc))]
        self.call_from_thread(self.show_config_issues, issues)

    def show_config_issues(self, issues: list[ConfigIssue]) -> None:
        """Keep the latest check; its errors cover the app (``!`` shows them again)."""
        self.config_issues = [i for i in issues if i.severity == "error"]
        if not self.config_issues:
            return
        from broker.tui.screens.config_errors import ConfigErrorsScreen

        warnings = len(issues) - len(self.config_issues)
        self.push_screen(ConfigErrorsScreen(self.config_issues, warnings))

    def action_config_errors(self) -> None:
        if not self.config_issues:
            self.flash("No configuration errors (the last check found none).")
            return
        self.show_config_issues(self.config_issues)

    def set_live_sessions(self, rows: list[SessionRow]) -> None:
        self.live = LiveSessions.of(rows)
        self.tick()

    def seconds_left(self, role: PortalRole) -> float | None:
        return self.live.seconds_left(role, self.clock())

    def cached_profile(self, role: PortalRole) -> str | None:
        return self.live.profile_for(role, self.clock())

    def tick(self) -> None:
        """One 1 s timer: the header's nearest expiry and the visible countdowns."""
        self.refresh_headers()
        from broker.tui.widgets.role_list import RoleList

        for role_list in self.screen.query(RoleList):
            role_list.refresh_countdowns()

    def on_resize(self, event: events.Resize) -> None:
        if self._started:
            self.check_size(event.size.width, event.size.height)

    def check_size(self, width: int, height: int) -> None:
        """Below 80×24 a screen saying so covers the app; it lifts when the terminal grows.

        Called from the app's and every screen's resize: a real terminal's resize reaches the
        screens (the app's own handler sees it only under some drivers).
        """
        small = width < MIN_WIDTH or height < MIN_HEIGHT
        covered = getattr(self.screen, "COVERS_SMALL_TERMINAL", False)
        if small and not covered:
            from broker.tui.screens.too_small import TooSmallScreen

            self.push_screen(TooSmallScreen())
        elif not small and covered:
            self.pop_screen()

    def watch_theme(self, theme: str) -> None:
        if theme in THEME_NAMES and theme != self.tui_state.theme:
            self.update_state(dataclasses.replace(self.tui_state, theme=theme))

    # -- shared state -------------------------------------------------------------------------
    def update_state(self, state: TuiState) -> None:
        """Keep and persist the favourites / recent / theme state (failures only flash)."""
        self.tui_state = state
        try:
            save_state(self.services.data_dir, state)
        except OSError as exc:
            self.notify(f"cannot save TUI state: {exc.strerror}", severity="warning")

    def signed_in(self, provider: str, result: SignInResult) -> None:
        self.identity = result
        self.provider_name = provider
        if self.sign_in_needed == provider:
            self.sign_in_needed = None
        self.refresh_headers()

    def refresh_headers(self) -> None:
        from broker.tui.screens.base import BrokerScreen

        for screen in self.screen_stack:
            if isinstance(screen, BrokerScreen) and screen.is_mounted:
                screen.refresh_header()

    def crumbs(self) -> tuple[str, ...]:
        from broker.tui.screens.base import BrokerScreen

        return tuple(s.CRUMB for s in self.screen_stack if isinstance(s, BrokerScreen) and s.CRUMB)

    def header_facts(self) -> HeaderFacts:
        claims = self.identity.claims if self.identity else None
        who = (claims.email or claims.name or claims.subject) if claims else None
        live, nearest = self.live.live(self.clock())
        return HeaderFacts(
            identity=who,
            provider=self.provider_name,
            live=live,
            nearest_seconds=nearest,
        )

    def report_error(self, error: BaseException) -> str:
        """Show ``error`` in a dialog and return its one-line summary. An error fixed by a new
        sign-in names ``s`` (``broker.login_advice``); ``s`` then opens that sign-in."""
        from broker.tui.screens.error import ErrorModal, describe_error

        title, summary, details = describe_error(error, self.services.data_dir)
        sign_in = error.sign_in if isinstance(error, BrokerError) else None
        if sign_in is not None:
            self.sign_in_needed = sign_in.provider
        provider = sign_in.provider if sign_in is not None else None
        self.push_screen(ErrorModal(title, summary, details, sign_in=provider))
        return summary

    def open_sign_in(self) -> None:
        """``s``: the sign-in screen; the provider the last error named is chosen and its
        sign-in started at once (the browser, the device code, or the paste field), as the
        error's advice said. Only once: another ``s`` lists the providers as usual."""
        from broker.tui.screens.signin import SignInScreen

        provider, self.sign_in_needed = self.sign_in_needed, None
        self.go("portal")
        self.push_screen(SignInScreen(provider, start=provider is not None))

    def copy(self, what: str, text: str) -> None:
        """Copy ``text`` by OSC 52 and, with a local display, the clipboard command too."""
        from broker.tui.clipboard import copied_message, copy_local, local_command

        self.copy_to_clipboard(text)
        copy_local(text, local_command(os.environ))
        self.last_copied = text
        self.flash(copied_message(what, text))

    def flash(self, text: str) -> None:
        """An info flash on the current screen's status line (a toast where there is none)."""
        from broker.tui.screens.base import BrokerScreen

        if isinstance(self.screen, BrokerScreen):
            self.screen.flash(text)
        else:
            self.notify(text, timeout=3)

    # -- navigation ---------------------------------------------------------------------------
    def go(self, view: str, argument: str | None = None) -> None:
        """Open ``view`` above the portal (the portal itself when ``view`` is ``portal``)."""
        from broker.tui.screens.portal import PortalScreen

        while len(self.screen_stack) > 2 and not isinstance(self.screen, PortalScreen):
            self.pop_screen()
        portal = self.screen
        if view == "portal":
            if isinstance(portal, PortalScreen) and argument is not None:
                portal.set_filter(argument)
            return
        self.push_screen(VIEWS[view].factory())

    def action_view(self, view: str) -> None:
        self.go(view)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "sign_in":  # a full screen's key; over a dialog a stray s does nothing
            from broker.tui.screens.base import BrokerScreen

            return isinstance(self.screen, BrokerScreen)
        return super().check_action(action, parameters)

    def action_sign_in(self) -> None:
        """``s`` where the screen has no ``s`` of its own (an error may name it anywhere)."""
        self.open_sign_in()

    def action_show_copied(self) -> None:
        """Show the last copied text; it will be printed to stdout on exit."""
        if self.last_copied is None:
            self.flash("Nothing copied yet — y opens the copy menu.")
            return
        from broker.tui.screens.copied import CopiedScreen

        self.print_on_exit = self.last_copied
        self.push_screen(CopiedScreen(self.last_copied))

    def action_jump_mode(self) -> None:
        """``ctrl+o``: a letter on every focusable pane of the screen; typing it focuses it."""
        from broker.tui.screens.jump import start_jump

        if not start_jump(self):
            self.flash("Nothing to jump to here.")

    def action_help(self) -> None:
        from broker.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def action_widget_help(self) -> None:
        """``F1``: the focused widget's help (the screen's when nothing is focused)."""
        from broker.tui.focus_help import focus_help
        from broker.tui.screens.widget_help import WidgetHelpScreen

        self.push_screen(WidgetHelpScreen(focus_help(self.focused, self.screen)))

    def action_command_line(self) -> None:
        from broker.tui.screens.command_line import CommandLine

        def done(text: str | None) -> None:
            if not text:
                return
            parsed = parse_command(text)
            if parsed is None:
                self.notify(f"unknown command {text!r}; try :portal :sessions :sim :audit :users")
                return
            self.go(*parsed)

        self.push_screen(CommandLine(), done)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for name, view in VIEWS.items():
            yield SystemCommand(f"Open {view.title}", f":{view.command}", lambda n=name: self.go(n))
        yield SystemCommand("Sign in", "choose an identity provider", lambda: self.go("signin"))
        yield SystemCommand("Help", "every key and the colour legend", self.action_help)
        for theme in THEME_NAMES:
            yield SystemCommand(
                f"Theme: {theme}", "switch the colour theme", lambda t=theme: self._set_theme(t)
            )

    def _set_theme(self, theme: str) -> None:
        self.theme = theme


def app_services(opener: StateOpener | None = None) -> Services:
    """The app's services: the configuration and data directories and the configured
    database, resolved once here as the app starts; the state is opened (by ``opener``, the
    real one unless a test counts opens) when an operation first needs it."""
    from broker.config.loader import config_dir, configured_database_url, data_dir
    from broker.sts.state_handle import StateHandle, open_for_one_process

    state = StateHandle(data_dir(), configured_database_url(), opener or open_for_one_process)
    return Services(config_dir(), state)


def run(*, no_color: bool = False, ascii_only: bool = False, readonly: bool = False) -> int:
    """Run the app on the configured directories; the process exit code.

    Raises:
        UsageError: stdin or stdout is not a terminal (use the commands instead).
    """
    import sys

    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError("the terminal app needs a terminal; run `broker --help` for commands")
    options = TuiOptions.from_env(no_color=no_color, ascii_only=ascii_only, readonly=readonly)
    services = app_services()
    try:
        app = BrokerApp(services, options)
        result = app.run()
    finally:
        services.close()  # also on the way out of a failed start; closing twice is harmless
    if app.print_on_exit:
        print(app.print_on_exit)  # asked for with `p`: the answer goes to stdout
    return result if isinstance(result, int) else 0
