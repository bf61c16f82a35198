"""The portal: every account and role the person may use, filtered as they type (docs/tui.md §3)."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input, Static

from broker.tui.model import MintChoice, MintOutcome, PortalRole, format_account_id
from broker.tui.portal_filter import Query, RoleFilter, parse_query
from broker.tui.screens.base import BrokerScreen
from broker.tui.widgets.focus_targets import PortalFilter
from broker.tui.widgets.role_list import RoleList
from broker.tui.widgets.status import FlashLevel

__all__ = ["PortalScreen"]


class PortalScreen(BrokerScreen):
    """Accounts → roles, favourites and recent first."""

    CRUMB = "Portal"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "slash",
            "filter",
            "filter",
            tooltip="filter: name, id, email, role, tags; !term excludes; key=value; ARN",
        ),
        Binding("enter,l", "open", "open", tooltip="open (mint the highlighted role)"),
        Binding("m", "mint", "mint", tooltip="mint for the highlighted role"),
        Binding("y", "copy", "copy", tooltip="copy menu: account id, role ARN"),
        Binding("f", "favourite", "fav", tooltip="toggle favourite ★"),
        Binding("s", "sign_in", "sign in"),
        Binding("r,R", "reload", "refresh", show=False, tooltip="reload the account list"),
        Binding(
            "o",
            "console",
            "console",
            show=False,
            tooltip="open the AWS console for the role's cached session",
        ),
        Binding("escape,h", "back", "back", show=False, tooltip="clear filter, else back a crumb"),
        Binding("q", "quit", "quit", show=False),
        *(
            Binding(
                str(n), f"jump({n})", f"favourite {n}", show=False, tooltip=f"jump to favourite {n}"
            )
            for n in range(1, 10)
        ),
    ]

    class RolesLoaded(Message):
        """The account list arrived from the core."""

        def __init__(self, roles: list[PortalRole]) -> None:
            super().__init__()
            self.roles = roles

    def __init__(self) -> None:
        super().__init__()
        self._filter = RoleFilter([])
        self._roles: list[PortalRole] = []
        self._query: Query = Query()
        self._accounts_total = 0
        self._loaded = False

    def compose_body(self) -> ComposeResult:
        yield PortalFilter(
            placeholder="filter: name, id, role, key=value, !exclude, ARN", id="filter"
        )
        yield RoleList(
            ascii_only=self.broker.options.ascii_only,
            expiry=self.broker.seconds_left,
            id="roles",
        )
        yield Static("", id="empty", classes="empty")
        yield Static("", id="detail", classes="detail")

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self._apply()
        self.query_one(RoleList).focus()
        if self.broker.identity is not None:
            self.load_roles()

    # -- data ---------------------------------------------------------------------------------
    def set_roles(self, roles: list[PortalRole]) -> None:
        """Show ``roles`` (attributes down: the app or a worker hands them in)."""
        self._roles = list(roles)
        self._filter = RoleFilter(self._roles)
        self._accounts_total = len({r.account_id for r in self._roles})
        self._loaded = True
        last = self.broker.tui_state.last_role
        self._apply(keep=last)

    def set_filter(self, text: str) -> None:
        """Filter by ``text`` (``:portal /pay``)."""
        box = self.query_one("#filter", Input)
        box.display = bool(text)
        box.value = text
        self._apply_text(text)

    @work(exclusive=True, exit_on_error=False, thread=True, description="Loading accounts")
    def load_roles(self) -> None:
        identity = self.broker.identity
        if identity is None:
            return
        roles = self.broker.services.portal_roles(identity)
        self.deliver(self.post_message, self.RolesLoaded(roles))

    def on_portal_screen_roles_loaded(self, message: RolesLoaded) -> None:
        self.set_roles(message.roles)

    # -- filtering ----------------------------------------------------------------------------
    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._apply_text(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one(RoleList).focus()

    def _apply_text(self, text: str) -> None:
        self._query = parse_query(text)
        self._apply()

    def _apply(self, keep: str | None = None) -> None:
        state = self.broker.tui_state
        shown = self._filter.apply(self._query, state.favourites, state.recent)
        roles = self.query_one(RoleList)
        roles.show(shown, self._query, keep)
        accounts_total = self._accounts_total
        accounts_shown = shown.account_count()
        text = self.query_one("#filter", Input).value.strip()
        title = f"Accounts({accounts_shown:,}/{accounts_total:,})"
        if text:
            title += f" </{text}>"
        roles.border_title = title  # k9s: the view title sits in the frame
        self.query_one("#empty", Static).border_title = title
        self._show_empty(text, bool(shown))

    def _show_empty(self, text: str, anything: bool) -> None:
        empty = self.query_one("#empty", Static)
        message = ""
        if self.broker.identity is None:
            message = "Not signed in — press s to sign in (or :signin)."
        elif not self._loaded:
            message = "Loading accounts…"
        elif not self._roles:
            groups = ", ".join(self.broker.identity.claims.groups) or "none"
            message = f"No accounts assigned — ask an admin (groups: {groups})."
        elif not anything:
            message = f'No account matches "{text}" — esc clears.'
        empty.update(message)
        empty.display = bool(message)
        self.query_one(RoleList).display = not message

    # -- actions ------------------------------------------------------------------------------
    def on_role_list_highlighted(self, message: RoleList.Highlighted) -> None:
        role = message.role
        detail = self.query_one("#detail", Static)
        if role is None:
            detail.update("")
            return
        dot = self.broker.options.glyph(" · ", " - ")
        via = f"{dot}via {role.via}" if role.via else ""
        detail.update(
            f"{role.label} @ {role.account_name} ({format_account_id(role.account_id)}){via}"
            f"{dot}{role.role_arn or role.role_name}"
        )

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    def back(self) -> None:
        box = self.query_one("#filter", Input)
        if box.value or box.has_focus:
            box.value = ""
            box.display = False
            self._apply_text("")
            self.query_one(RoleList).focus()
            return
        super().back()

    def _current(self) -> PortalRole | None:
        role = self.query_one(RoleList).current
        if role is None:
            self.flash("Nothing selected — sign in, then pick a role.", FlashLevel.WARNING)
        return role

    def action_open(self) -> None:
        if self.query_one("#filter", Input).has_focus:
            return
        self.action_mint()

    def action_mint(self) -> None:
        role = self._current()
        if role is None:
            return
        if self.broker.identity is None:
            self.flash("Sign in first — press s.", FlashLevel.WARNING)
            return
        from broker.tui.screens.mint import MintDialog

        def chosen(choice: MintChoice | None) -> None:
            if choice is not None:
                self.mint(role, choice)

        self.app.push_screen(MintDialog(role), chosen)

    @work(exclusive=True, exit_on_error=False, thread=True, description="Minting")
    def mint(self, role: PortalRole, choice: MintChoice) -> None:
        identity = self.broker.identity
        if identity is None:
            return
        outcome = self.broker.services.mint(identity, role, choice, read_code=self.ask_mfa_code)
        self.deliver(self._minted, role, outcome)

    def _minted(self, role: PortalRole, outcome: MintOutcome) -> None:
        from broker.tui.screens.credentials import CredentialsScreen

        self.broker.update_state(self.broker.tui_state.used(role.key))
        self.broker.load_sessions()
        self._apply(keep=role.key)
        self.app.push_screen(CredentialsScreen(role, outcome))

    def action_favourite(self) -> None:
        role = self._current()
        if role is None:
            return
        state = self.broker.tui_state
        if role.key not in state.favourites and len(state.favourites) >= 9:
            self.flash("Nine favourites already — press f on one to free a slot.")
            return
        self.broker.update_state(state.toggle_favourite(role.key))
        added = role.key in self.broker.tui_state.favourites
        self.flash(
            f"{'Added' if added else 'Removed'} favourite {role.label} @ {role.account_name}"
        )
        self._apply(keep=role.key)

    def action_jump(self, number: int) -> None:
        favourites = self.broker.tui_state.favourites
        if number > len(favourites) or not self.query_one(RoleList).select_key(
            favourites[number - 1]
        ):
            self.flash(f"No favourite {number} shown — f marks the highlighted role.")

    def action_copy(self) -> None:
        role = self._current()
        if role is None:
            return
        from broker.tui.screens.picker import Picker

        items = [("account id", role.account_id)]
        if role.role_arn:
            items.append(("role ARN", role.role_arn))
        self.app.push_screen(Picker("Copy", items), self._copy_chosen)

    def _copy_chosen(self, chosen: tuple[str, str] | None) -> None:
        if chosen is not None:
            self.broker.copy(*chosen)

    def action_reload(self) -> None:
        if self.broker.identity is None:
            self.flash("Sign in first — press s.", FlashLevel.WARNING)
            return
        self.load_roles()

    def action_console(self) -> None:
        """``o``: the console for the highlighted role's cached session (mint one first)."""
        role = self._current()
        if role is None:
            return
        profile = self.broker.cached_profile(role)
        if profile is None:
            self.flash(
                f"No session for {role.label} @ {role.account_name} — m mints one, then o.",
                FlashLevel.WARNING,
            )
            return
        self.open_console(profile)

    def action_quit(self) -> None:
        self.app.exit(0)
