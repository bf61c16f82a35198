"""The portal's role list: virtualised (only painted lines are built), so 10,000 roles filter
and scroll without delay. Section headings (★ Favourites, Recent, All) sit between rows.

Columns drop in a fixed order when narrow (tags, email), and names end in ``…``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from broker.tui.expiry import describe, level_for
from broker.tui.model import PortalRole, format_account_id
from broker.tui.portal_filter import Query, Section, Shown, highlights

__all__ = ["RoleList"]


class RoleList(ScrollView, can_focus=True):
    """Rows of account + role; the cursor is on a role, never on a heading."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "cursor_down", "down", show=False),
        Binding("k,up", "cursor_up", "up", show=False),
        Binding("g,home", "first", "top", show=False),
        Binding("G,end", "last", "bottom", show=False),
        Binding("pagedown", "page_down_rows", "page", show=False),
        Binding("pageup", "page_up_rows", "page", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "role-list--cursor",
        "role-list--heading",
        "role-list--match",
        "role-list--favourite",
        "role-list--id",
        "role-list--ok",
        "role-list--warn",
        "role-list--critical",
        "role-list--expired",
    }

    cursor: reactive[int] = reactive(0)

    class Highlighted(Message):
        """The cursor moved to ``role`` (None when the list is empty)."""

        def __init__(self, role: PortalRole | None) -> None:
            super().__init__()
            self.role = role

    class Chosen(Message):
        """``enter`` or a click chose ``role``."""

        def __init__(self, role: PortalRole) -> None:
            super().__init__()
            self.role = role

    def __init__(
        self,
        *,
        ascii_only: bool = False,
        expiry: Callable[[PortalRole], float | None] | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.ascii_only = ascii_only
        self.expiry = expiry or (lambda _role: None)
        self.shown: list[Shown] = []
        self.query_: Query = Query()
        # Each painted line: a Section (a heading) or an int (an index into ``shown``); plain
        # values, not objects, since a keystroke may rebuild ten thousand of them.
        self._lines: list[Section | int] = []
        self._row_line: list[int] = []

    # -- data ---------------------------------------------------------------------------------
    def show(self, shown: Sequence[Shown], query: Query, keep: str | None = None) -> None:
        """Replace the rows; keep the cursor on ``keep`` (a role key) when it is still shown."""
        previous = keep or (self.current.key if self.current else None)
        self.shown = list(shown)
        self.query_ = query
        self._lines = []
        self._row_line = []
        section: Section | None = None
        lines, row_line = self._lines, self._row_line
        for index, item in enumerate(self.shown):
            if item.section is not section:
                section = item.section
                lines.append(section)
            row_line.append(len(lines))
            lines.append(index)
        self.virtual_size = Size(self.size.width, len(self._lines))
        target = 0
        if previous is not None:
            target = next((i for i, item in enumerate(self.shown) if item.role.key == previous), 0)
        self.cursor = target
        self._scroll_to_cursor()
        self.refresh()
        self.post_message(self.Highlighted(self.current))

    @property
    def current(self) -> PortalRole | None:
        if 0 <= self.cursor < len(self.shown):
            return self.shown[self.cursor].role
        return None

    # -- movement -----------------------------------------------------------------------------
    def _move(self, to: int) -> None:
        if not self.shown:
            return
        clamped = max(0, min(len(self.shown) - 1, to))
        if clamped != self.cursor:
            self.cursor = clamped
            self.post_message(self.Highlighted(self.current))
        self._scroll_to_cursor()
        self.refresh()

    def _scroll_to_cursor(self) -> None:
        if not self._row_line:
            return
        line = self._row_line[self.cursor]
        top = line - 1 if line and isinstance(self._lines[line - 1], Section) else line
        self.scroll_to_region(Region(0, top, 1, line - top + 1), animate=False, immediate=True)

    def action_cursor_down(self) -> None:
        self._move(self.cursor + 1)

    def action_cursor_up(self) -> None:
        self._move(self.cursor - 1)

    def action_first(self) -> None:
        self._move(0)

    def action_last(self) -> None:
        self._move(len(self.shown) - 1)

    def action_page_down_rows(self) -> None:
        self._move(self.cursor + max(1, self.size.height - 1))

    def action_page_up_rows(self) -> None:
        self._move(self.cursor - max(1, self.size.height - 1))

    def select_key(self, key: str) -> bool:
        """Move the cursor to the role with ``key``; False when it is not shown."""
        for index, item in enumerate(self.shown):
            if item.role.key == key:
                self._move(index)
                return True
        return False

    def choose(self) -> None:
        if self.current is not None:
            self.post_message(self.Chosen(self.current))

    def on_click(self, event: object) -> None:
        y = getattr(event, "y", None)
        if y is None:
            return
        line = self.scroll_offset.y + int(y)
        if 0 <= line < len(self._lines):
            target = self._lines[line]
            if not isinstance(target, Section):
                self._move(target)

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self._lines))

    def refresh_countdowns(self) -> None:
        """Repaint (the 1 s countdown timer calls this)."""
        self.refresh()

    # -- painting -----------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        line_no = scroll_y + y
        width = self.size.width
        base = self.rich_style
        if line_no >= len(self._lines):
            return Strip.blank(width, base)
        line = self._lines[line_no]
        if isinstance(line, Section):
            text = Text(f" {self._heading(line)}", no_wrap=True)
            text.stylize(self.get_component_rich_style("role-list--heading"))
        else:
            text = self._row(line, width)
        text.truncate(width, overflow="ellipsis", pad=True)
        segments = list(text.render(self.app.console))
        strip = Strip([Segment(s.text, base + s.style if s.style else base) for s in segments])
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def _heading(self, section: Section) -> str:
        if self.ascii_only and section is Section.FAVOURITE:
            return "* Favourites"
        return section.value

    def _styled(self, value: str, text: Text, base: Style | None = None) -> None:
        """Append ``value`` with matched characters highlighted."""
        start = len(text)
        text.append(value, style=base or Style())
        match = self.get_component_rich_style("role-list--match")
        for offset in highlights(value, self.query_):
            text.stylize(match, start + offset, start + offset + 1)

    def _fit(self, value: str, width: int) -> str:
        """``value`` padded to ``width``, or cut with ``…`` (``~`` in ASCII mode)."""
        if len(value) > width:
            return value[: width - 1] + ("~" if self.ascii_only else "…")
        return value.ljust(width)

    def _row(self, index: int, width: int) -> Text:
        item = self.shown[index]
        role = item.role
        text = Text(no_wrap=True)
        if item.favourite is not None:
            star = "*" if self.ascii_only else "★"
            text.append(
                f" {star}{item.favourite} ",
                style=self.get_component_rich_style("role-list--favourite"),
            )
        else:
            text.append("    ")
        self._styled(self._fit(role.account_name, 22 if width >= 100 else 18), text)
        text.append(" ")
        self._styled(
            format_account_id(role.account_id), text, self.get_component_rich_style("role-list--id")
        )
        text.append("  ")
        self._styled(self._fit(role.label, 20 if width >= 100 else 18), text)
        seconds = self.expiry(role)
        if seconds is not None:
            level = level_for(seconds)
            text.append(" ")
            text.append(
                describe(seconds, ascii_only=self.ascii_only),
                style=self.get_component_rich_style(f"role-list--{level.value}"),
            )
        if width >= 110 and role.email:
            text.append("  ")
            self._styled(role.email, text)
        if width >= 130 and role.tags:
            text.append("  ")
            self._styled(" ".join(f"{k}={v}" for k, v in sorted(role.tags.items())), text)
        if index == self.cursor and self.has_focus:
            text.stylize(self.get_component_rich_style("role-list--cursor"))
        elif index == self.cursor:
            text.stylize(Style(reverse=True, dim=True))
        return text

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
