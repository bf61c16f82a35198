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
from broker.tui.portal_filter import Filtered, Query, Section, Shown, highlights

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
        self.shown: Sequence[Shown] = ()
        self.query_: Query = Query()
        self._layout = _Layout([])

    # -- data ---------------------------------------------------------------------------------
    def show(self, shown: Sequence[Shown], query: Query, keep: str | None = None) -> None:
        """Replace the rows; keep the cursor on ``keep`` (a role key) when it is still shown.

        Nothing here walks the rows: a keystroke over ten thousand roles costs what a few
        do (``Filtered`` finds a role by key; the layout is three section blocks).
        """
        previous = keep or (self.current.key if self.current else None)
        self.shown = shown
        self.query_ = query
        self._layout = _Layout.of(shown)
        self.virtual_size = Size(self.size.width, self._layout.lines)
        target = 0
        if previous is not None:
            target = _position(shown, previous) or 0
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
        if not self.shown:
            return
        line = self._layout.line_of(self.cursor)
        top = line - 1 if line and isinstance(self._layout.at(line - 1), Section) else line
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
        index = _position(self.shown, key)
        if index is None:
            return False
        self._move(index)
        return True

    def choose(self) -> None:
        if self.current is not None:
            self.post_message(self.Chosen(self.current))

    def on_click(self, event: object) -> None:
        y = getattr(event, "y", None)
        if y is None:
            return
        line = self.scroll_offset.y + int(y)
        if 0 <= line < self._layout.lines:
            target = self._layout.at(line)
            if not isinstance(target, Section):
                self._move(target)

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, self._layout.lines)

    def refresh_countdowns(self) -> None:
        """Repaint (the 1 s countdown timer calls this)."""
        self.refresh()

    # -- painting -----------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        line_no = scroll_y + y
        width = self.size.width
        base = self.rich_style
        if line_no >= self._layout.lines:
            return Strip.blank(width, base)
        line = self._layout.at(line_no)
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


def _position(shown: Sequence[Shown], key: str) -> int | None:
    """Where the role with ``key`` is in ``shown`` (a lookup for a filter's answer)."""
    if isinstance(shown, Filtered):
        return shown.position(key)
    return next((i for i, item in enumerate(shown) if item.role.key == key), None)


class _Layout:
    """Painted lines as section blocks: a heading line, then that section's rows.

    Sections are contiguous (favourites, recent, all), so a line maps to a row by arithmetic.
    """

    __slots__ = ("blocks", "lines")

    def __init__(self, blocks: list[tuple[Section, int, int]]) -> None:
        self.blocks = blocks  # (section, first row, row count), non-empty blocks only
        self.lines = sum(count + 1 for _section, _first, count in blocks)

    @classmethod
    def of(cls, shown: Sequence[Shown]) -> _Layout:
        if isinstance(shown, Filtered):
            sections = [*shown.head_sections, *([Section.ALL] if shown.rest else [])]
            counts = [1] * len(shown.head_sections) + ([shown.rest] if shown.rest else [])
        else:
            sections = [item.section for item in shown]
            counts = [1] * len(shown)
        blocks: list[tuple[Section, int, int]] = []
        row = 0
        for section, count in zip(sections, counts, strict=True):
            if blocks and blocks[-1][0] is section:
                first, have = blocks[-1][1], blocks[-1][2]
                blocks[-1] = (section, first, have + count)
            else:
                blocks.append((section, row, count))
            row += count
        return cls(blocks)

    def at(self, line: int) -> Section | int:
        """What ``line`` shows: a section heading or a row number."""
        for section, first, count in self.blocks:
            if line == 0:
                return section
            if line <= count:
                return first + line - 1
            line -= count + 1
        raise IndexError(line)

    def line_of(self, row: int) -> int:
        """The line that shows ``row``."""
        line = 0
        for _section, first, count in self.blocks:
            if row < first + count:
                return line + 1 + row - first
            line += count + 1
        raise IndexError(row)
