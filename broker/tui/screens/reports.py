"""The Reports view: three tabs over the governance core.

- Credentials: IAM's credential report, each column as wide as its content (the table scrolls
  sideways: ``←``/``→``), an account column so root rows differ, and the selected row whole in
  the detail pane below; a root user with access keys or without an MFA device is flagged with
  glyph + word; ``/`` filters.
- Last accessed: pick user / role / permission set, a name and ``--days``; unused grants are
  flagged and the narrower suggested policy is shown and copied with ``y``.
- Analyzer: external access per directory role, proved by z3 in a worker (spinner in the
  status line; ``esc`` cancels between roles); the highlighted role's witnesses below.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Select, Static, TabbedContent, TabPane, TextArea
from textual.worker import Worker, WorkerState, get_current_worker

from broker.tui.screens.base import BrokerScreen

if TYPE_CHECKING:
    from broker.tui.reports_data import Finding, LastAccessedView, PrincipalKind

__all__ = ["ReportsScreen"]

_KINDS: tuple[tuple[str, PrincipalKind], ...] = (
    ("user", "user"),
    ("role", "role"),
    ("permission set", "permission-set"),
)
_TABS = ("tab-credentials", "tab-last", "tab-analyzer")
_FOCUS = ("#credentials", "#last-name", "#findings")


class ReportsScreen(BrokerScreen):
    """Governance reports: the credential report, last accessed, and the access analyzer."""

    CRUMB = "Reports"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "tab(0)", "credentials", show=False),
        Binding("2", "tab(1)", "last accessed", show=False),
        Binding("3", "tab(2)", "analyzer", show=False),
        Binding("slash", "filter", "filter"),
        Binding("y", "copy", "copy policy"),
        Binding("r", "reload", "refresh"),
        Binding("escape", "back", "cancel/back"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.report: list[tuple[str, tuple[str, ...]]] = []
        self._raw: list[dict[str, str]] = []
        self._shown: list[int] = []  # report index of each table row
        self.findings: list[Finding] = []
        self.policy = ""
        self._analyzer: Worker[None] | None = None

    def compose_body(self) -> ComposeResult:
        with TabbedContent(id="reports"):
            with TabPane("1 Credentials", id="tab-credentials"):
                yield Input(placeholder="/ filter rows", id="cred-filter")
                yield DataTable(id="credentials", cursor_type="row", zebra_stripes=True)
                yield Static("", id="cred-detail", markup=False)
            with TabPane("2 Last accessed", id="tab-last"):
                with Horizontal(id="last-form"):
                    yield Select(_KINDS, value="role", allow_blank=False, id="last-kind")
                    yield Input(placeholder="name (enter runs)", id="last-name")
                    yield Input("90", placeholder="days", type="integer", id="last-days")
                yield Static("", id="last-summary")
                yield DataTable(id="last-accessed", cursor_type="row")
                yield TextArea("", read_only=True, id="last-policy")
            with TabPane("3 Analyzer", id="tab-analyzer"):
                yield DataTable(id="findings", cursor_type="row")
                yield Static("", id="witness")
        yield Static("", id="view-body", classes="empty")

    def on_mount(self) -> None:
        body = self.query_one("#view-body", Static)
        body.display = False
        self.query_one("#credentials", DataTable).add_columns(*_credential_columns())
        self.query_one("#last-accessed", DataTable).add_columns("service", "last used", "")
        self.query_one("#findings", DataTable).add_columns("", "role (and its account)")
        self.query_one("#cred-filter", Input).display = False
        self.query_one("#credentials", DataTable).focus()
        self.load_credentials()

    def _glyph(self, unicode: str, ascii_text: str) -> str:
        return self.broker.options.glyph(unicode, ascii_text)

    # Credentials -------------------------------------------------------------------------

    @work(exclusive=True, exit_on_error=False, thread=True, group="credentials",
          description="Building the credential report")  # fmt: skip
    def load_credentials(self) -> None:
        rows = self.broker.services.credential_report()
        self.deliver(self.show_credentials, rows)

    def show_credentials(self, rows: list[dict[str, str]]) -> None:
        from broker.tui.reports_data import shape_credential_row

        self.report = []
        self._raw = list(rows)
        for row in rows:
            shaped = shape_credential_row(row)
            flag = ""
            if shaped.flag:
                severe = "root keys" in shaped.flag
                flag = self._glyph("‼", "!!") if severe else self._glyph("⚠", "!")
                flag = f"{flag} {shaped.flag.upper()}"
            self.report.append((flag, shaped.cells[1:]))
        self.filter_credentials(self.query_one("#cred-filter", Input).value)

    def filter_credentials(self, text: str) -> None:
        table = self.query_one("#credentials", DataTable)
        table.clear()
        needle = text.strip().lower()
        self._shown = []
        for index, (flag, cells) in enumerate(self.report):
            if needle and needle not in " ".join((flag, *cells)).lower():
                continue
            table.add_row(flag, *cells)
            self._shown.append(index)
        suffix = f" </{text.strip()}>" if needle else ""
        table.border_title = f"Credentials({len(self._shown)}/{len(self.report)}){suffix}"
        self.show_credential_detail(table.cursor_row)

    @on(DataTable.RowHighlighted, "#credentials")
    def _credential_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_credential_detail(event.cursor_row)

    def show_credential_detail(self, row: int) -> None:
        """The selected row whole (the table's cells are the scan; this is the read)."""
        from broker.tui.reports_data import MFA_DEVICE_NOTE, credential_detail

        pane = self.query_one("#cred-detail", Static)
        if not 0 <= row < len(self._shown):
            pane.update(MFA_DEVICE_NOTE)
            return
        pane.update("\n".join(credential_detail(self._raw[self._shown[row]])))

    @on(Input.Changed, "#cred-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_credentials(event.value)

    @on(Input.Submitted, "#cred-filter")
    def _filter_done(self) -> None:
        self.query_one("#credentials", DataTable).focus()

    def action_filter(self) -> None:
        if self._active() == "tab-credentials":
            box = self.query_one("#cred-filter", Input)
            box.display = True
            box.focus()

    # Last accessed -----------------------------------------------------------------------

    @on(Input.Submitted, "#last-name")
    @on(Input.Submitted, "#last-days")
    def _run_last_accessed(self) -> None:
        kind = self.query_one("#last-kind", Select).value
        name = self.query_one("#last-name", Input).value
        days_text = self.query_one("#last-days", Input).value
        days = int(days_text) if days_text.lstrip("-").isdigit() else 0
        self.load_last_accessed(str(kind), name, days)
        self.query_one("#last-accessed", DataTable).focus()

    @work(exclusive=True, exit_on_error=False, thread=True, group="last-accessed",
          description="Reading last-accessed data")  # fmt: skip
    def load_last_accessed(self, kind: str, name: str, days: int) -> None:
        principal: PrincipalKind = "user"
        for _label, value in _KINDS:
            if value == kind:
                principal = value
        view = self.broker.services.last_accessed(principal, name, days)
        self.deliver(self.show_last_accessed, view, days)

    def show_last_accessed(self, view: LastAccessedView, days: int) -> None:
        table = self.query_one("#last-accessed", DataTable)
        table.clear()
        unused = 0
        for service, when, is_unused in view.services:
            flag = f"{self._glyph('⚠', '!')} UNUSED {days}+ days" if is_unused else ""
            unused += is_unused
            table.add_row(service, when, flag)
        table.border_title = f"Last accessed({len(view.services)}) {view.principal}"
        lines = [f"{unused} of {len(view.services)} granted services unused for {days}+ days"]
        if not view.principal.startswith("user "):
            lines.append(f"last assumed: {view.last_assumed or 'never (in the audit log)'}")
        lines += [f"note: {note}" for note in view.notes]
        self.query_one("#last-summary", Static).update("\n".join(lines))
        self.policy = view.suggested_policy
        area = self.query_one("#last-policy", TextArea)
        area.text = self.policy or "(no statement stays: nothing granted was used)"
        area.border_title = "suggested policy (y copies)"

    def action_copy(self) -> None:
        if self._active() != "tab-last":
            return
        if not self.policy:
            self.flash("No suggested policy yet — pick a principal and press enter.")
            return
        self.broker.copy("suggested policy", self.policy)

    # Analyzer ----------------------------------------------------------------------------

    def run_analyzer(self) -> None:
        self.findings = []
        table = self.query_one("#findings", DataTable)
        table.clear()
        self.query_one("#witness", Static).update("")
        self._analyzer = self.analyze()

    @work(exclusive=True, exit_on_error=False, thread=True, group="analyzer",
          description="Proving external access with z3 (esc cancels)")  # fmt: skip
    def analyze(self) -> None:
        services = self.broker.services
        targets, zone = services.analyzer_targets()
        for target in targets:
            if _cancelled():
                return
            finding = services.analyze(target, zone)
            if _cancelled():
                return
            self.deliver(self.add_finding, finding, len(targets))

    def add_finding(self, finding: Finding, total: int) -> None:
        self.findings.append(finding)
        words = {
            "external": (self._glyph("✗", "x"), "EXTERNAL"),
            "none": (self._glyph("✓", "+"), "none"),
            "undecided": (self._glyph("?", "?"), "UNDECIDED"),
        }
        glyph, word = words.get(finding.status, ("?", finding.status))
        table = self.query_one("#findings", DataTable)
        table.add_row(f"{glyph} {word}", finding.name)
        external = sum(f.status == "external" for f in self.findings)
        table.border_title = (
            f"Analyzer({len(self.findings)}/{total}) {external} with external access"
        )
        if len(self.findings) == 1:
            self.show_witness(0)

    @on(DataTable.RowHighlighted, "#findings")
    def _finding_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_witness(event.cursor_row)

    def show_witness(self, index: int) -> None:
        if not 0 <= index < len(self.findings):
            return
        finding = self.findings[index]
        lines = [finding.resource]
        lines += [f"finding: {w}" for w in finding.witnesses]
        lines += [f"cannot decide: {r}" for r in finding.reasons]
        if finding.status == "none":
            lines.append("no caller outside the organization can assume it")
        self.query_one("#witness", Static).update("\n".join(lines))

    # Shared ------------------------------------------------------------------------------

    def _active(self) -> str:
        return self.query_one(TabbedContent).active

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "tab-analyzer" and self._analyzer is None:
            self.run_analyzer()

    def action_tab(self, index: int) -> None:
        """Switch tabs and focus the tab's main widget (else focus would stay in the hidden
        pane, and the tabbed content follows focus back to it)."""
        self.query_one(TabbedContent).active = _TABS[index]
        self.query_one(_FOCUS[index]).focus()

    def action_reload(self) -> None:
        active = self._active()
        if active == "tab-credentials":
            self.load_credentials()
        elif active == "tab-analyzer":
            self.run_analyzer()
        else:
            self._run_last_accessed()

    def action_back(self) -> None:
        """``esc``: cancel the running analysis, else hide the filter, else back a crumb."""
        if self._analyzer is not None and self._analyzer.state in (
            WorkerState.PENDING,
            WorkerState.RUNNING,
        ):
            self._analyzer.cancel()
            self.flash("Analysis cancelled; r runs it again.")
            return
        box = self.query_one("#cred-filter", Input)
        if box.display:
            box.value = ""
            box.display = False
            self.query_one("#credentials", DataTable).focus()
            return
        super().action_back()


def _cancelled() -> bool:
    """Whether ``esc`` cancelled this worker (a call, so checks are not narrowed away)."""
    return get_current_worker().is_cancelled


def _credential_columns() -> Sequence[str]:
    from broker.tui.reports_data import CREDENTIAL_COLUMNS

    return CREDENTIAL_COLUMNS
