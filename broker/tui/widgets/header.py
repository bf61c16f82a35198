"""The one-line header: breadcrumbs left; identity, provider, live count, nearest expiry right."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from broker.tui.expiry import describe, level_for

__all__ = ["BrokerHeader", "HeaderFacts"]


@dataclass(frozen=True)
class HeaderFacts:
    """What the right side shows; ``nearest_seconds`` is the soonest live expiry."""

    identity: str | None = None
    provider: str | None = None
    live: int = 0
    nearest_seconds: float | None = None


class BrokerHeader(Widget):
    """k9s-style header; the nearest expiry is coloured by its threshold level."""

    crumbs: reactive[tuple[str, ...]] = reactive(("Portal",))
    facts: reactive[HeaderFacts] = reactive(HeaderFacts)

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "header--brand",
        "header--crumb",
        "header--ok",
        "header--warn",
        "header--critical",
        "header--expired",
    }

    def __init__(self, *, ascii_only: bool = False, id: str | None = None) -> None:
        super().__init__(id=id)
        self.ascii_only = ascii_only

    def render(self) -> Text:
        sep = " > " if self.ascii_only else " › "
        left = Text(" broker ", style=self.get_component_rich_style("header--brand"))
        left.append(" ")
        left.append(sep.join(self.crumbs), style=self.get_component_rich_style("header--crumb"))
        facts = self.facts
        right = Text()
        dot = " - " if self.ascii_only else " · "
        parts: list[Text] = []
        parts.append(Text(facts.identity or "not signed in"))
        if facts.provider:
            parts.append(Text(facts.provider))
        parts.append(Text(f"{facts.live} live"))
        if facts.nearest_seconds is not None:
            level = level_for(facts.nearest_seconds)
            style = self.get_component_rich_style(f"header--{level.value}")
            parts.append(
                Text(describe(facts.nearest_seconds, ascii_only=self.ascii_only), style=style)
            )
        for index, part in enumerate(parts):
            if index:
                right.append(dot)
            right.append_text(part)
        right.append(" ")
        width = self.size.width
        room = width - right.cell_len - 1
        if left.cell_len > room:
            left.truncate(max(room, 8), overflow="ellipsis")
        gap = max(1, width - left.cell_len - right.cell_len)
        return Text.assemble(left, " " * gap, right, no_wrap=True, overflow="ellipsis")
