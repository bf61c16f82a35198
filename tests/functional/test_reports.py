"""The Reports view over the real governance core: the shipped directory (with one account's
root user given keys and no MFA), a real audit log, and z3 for the analyzer."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Select

from broker.tui.screens.reports import ReportsScreen
from tests.conftest import CONFIG
from tests.functional.screen_text import flat_text
from tests.state_support import embedded_state
from tests.unit.reports.events import authorize, role_caller

pytestmark = pytest.mark.anyio

CI_DEPLOY = "arn:aws:iam::444444444445:role/service/ci-deploy"


@pytest.fixture
def risky_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broker_home: Path) -> Path:
    """The shipped config, but payments-prod's root user has access keys and no MFA."""
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    org = config / "directory" / "organization.toml"
    text = org.read_text()
    marker = 'id = "444444444444"\n'
    assert marker in text
    org.write_text(
        text.replace(marker, marker + "root_user = { mfa = false, access_keys = true }\n")
    )
    monkeypatch.setenv("BROKER_CONFIG", str(config))
    return config


@pytest.fixture
def open_trust_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broker_home: Path) -> Path:
    """The shipped config, but BreakGlass trusts another AWS account (outside the org)."""
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    trust = config / "policies" / "trust-break-glass.json"
    document = json.loads(trust.read_text())
    document["Statement"][0]["Principal"] = {"AWS": "arn:aws:iam::999999999999:root"}
    del document["Statement"][0]["Condition"]["NumericLessThan"]  # the solver cannot decide it
    trust.write_text(json.dumps(document))
    monkeypatch.setenv("BROKER_CONFIG", str(config))
    return config


async def _open(app, pilot, tab: str = "1") -> ReportsScreen:
    """Open Reports, switch to ``tab`` and wait for its worker."""
    await pilot.press("colon", *"reports", "enter")
    await pilot.pause()
    assert isinstance(app.screen, ReportsScreen)
    await app.workers.wait_for_complete()
    await pilot.press(tab)
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    return app.screen


async def test_credential_report_flags_the_risky_root_and_filters(make_app, risky_config) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open(app, pilot)
        table = screen.query_one("#credentials", DataTable)
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        flagged = [r for r in rows if r[0]]
        assert flagged == [
            ["‼ ROOT KEYS, NO MFA", "444444444444", "root", "no", "active", "N/A", "-", "N/A", "0"]
        ]
        # Every other root is clean and every directory user is listed too.
        assert sum(r[2] == "root" for r in rows) > 1
        assert any(r[2] == "alice" for r in rows)
        await pilot.press("slash", *"alice")
        await pilot.pause()
        assert [str(c) for c in table.get_row_at(0)][2] == "alice"
        assert table.row_count == 1
        assert f"Credentials(1/{len(rows)}) </alice>" in flat_text(app)
        await pilot.press("escape")  # clears the filter first, stays on Reports
        await pilot.pause()
        assert isinstance(app.screen, ReportsScreen)
        assert table.row_count == len(rows)


async def test_ascii_glyphs_for_the_root_flag(make_app, risky_config) -> None:
    app = make_app(ascii_only=True)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open(app, pilot)
        table = screen.query_one("#credentials", DataTable)
        flags = {str(table.get_row_at(i)[0]) for i in range(table.row_count)}
        assert "!! ROOT KEYS, NO MFA" in flags


async def test_last_accessed_flags_unused_and_copies_the_narrower_policy(
    make_app, broker_home
) -> None:
    now = datetime.now(UTC)
    embedded_state(broker_home).shared.audit.append(
        authorize(
            role_caller(CI_DEPLOY, "ci-deployer"),
            "lambda:UpdateFunctionCode",
            now - timedelta(days=2),
        )
    )
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open(app, pilot)
        await pilot.press("2")
        await pilot.pause()
        assert screen.query_one("#last-kind", Select).value == "role"
        screen.query_one("#last-days", Input).value = "30"
        screen.query_one("#last-name", Input).focus()
        await pilot.press(*"ci-deploy", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = screen.query_one("#last-accessed", DataTable)
        rows = {str(r[0]): (str(r[1]), str(r[2])) for r in map(table.get_row_at, range(2))}
        assert rows["s3"] == ("never", "⚠ UNUSED 30+ days")
        assert rows["lambda"][1] == "" and rows["lambda"][0].startswith(str(now.year))
        assert "1 of 2 granted services unused for 30+ days" in flat_text(app)
        policy = json.loads(screen.policy)
        actions = json.dumps(policy)
        assert "lambda:UpdateFunctionCode" in actions and "s3:PutObject" not in actions
        await pilot.press("y")
        await pilot.pause()
        assert app.last_copied == screen.policy
        assert "Copied suggested policy" in flat_text(app)


async def test_last_accessed_unknown_role_is_one_line_with_the_fix(make_app, broker_home) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _open(app, pilot)
        await pilot.press("2")
        screen.query_one("#last-name", Input).focus()
        await pilot.press(*"nosuch", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "no role 'nosuch' in roles.toml" in flat_text(app)


async def test_analyzer_lists_each_role_with_its_status(make_app, broker_home) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open(app, pilot, tab="3")
        table = screen.query_one("#findings", DataTable)
        names = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        assert "role BreakGlass in 111111111111" in names
        assert len(screen.findings) == table.row_count > 10
        assert all(f.status == "none" for f in screen.findings)
        assert str(table.get_row_at(0)[0]) == "✓ none"
        assert "no caller outside the organization can assume it" in flat_text(app)


async def test_esc_cancels_a_running_analysis(make_app, broker_home) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open(app, pilot)
        screen.run_analyzer()  # what pressing 3 starts, without waiting for the tab switch
        await pilot.press("escape")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, ReportsScreen)
        targets, _zone = app.services.analyzer_targets()
        assert len(screen.query_one("#findings", DataTable).rows) < len(targets)
        assert "Analysis cancelled" in flat_text(app)


async def test_analyzer_shows_the_witness_of_external_access(make_app, open_trust_config) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open(app, pilot, tab="3")
        external = [f for f in screen.findings if f.status == "external"]
        assert [f.name for f in external] == ["role BreakGlass in 111111111111"]
        assert "1 with external access" in flat_text(app)
        table = screen.query_one("#findings", DataTable)
        row = next(i for i in range(table.row_count) if "BreakGlass" in str(table.get_row_at(i)[1]))
        assert str(table.get_row_at(row)[0]) == "✗ EXTERNAL"
        table.move_cursor(row=row)
        await pilot.pause()
        text = flat_text(app)
        assert "finding:" in text and "999999999999" in text and "sts:AssumeRole" in text
        assert 'aws:multifactorauthpresent": "true"' in text  # the context it needs


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_credential_report_columns_fit_their_content_and_roots_differ(
    make_app, risky_config, size
) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        screen = await _open(app, pilot)
        table = screen.query_one("#credentials", DataTable)
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        # Each root row is told apart by its account, and no two rows read alike.
        roots = [r[1] for r in rows if r[2] == "root"]
        assert len(roots) > 1 and len(set(roots)) == len(roots)
        assert len({tuple(r[1:3]) for r in rows}) == len(rows)
        # Every column is at least as wide as its widest cell: nothing is cut.
        for column, index in zip(table.columns.values(), range(len(rows[0])), strict=True):
            widest = max(len(r[index]) for r in rows)
            assert column.get_render_width(table) >= widest + 2 * table.cell_padding
        if size[0] >= 200:  # wide enough: the whole table shows, headers and all
            assert table.virtual_size.width <= table.scrollable_content_region.width
            assert "444444444444" in flat_text(app) and "MFA device" in flat_text(app)


async def test_credential_report_scrolls_sideways_when_narrow(make_app, risky_config) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot)
        table = screen.query_one("#credentials", DataTable)
        assert table.virtual_size.width > table.scrollable_content_region.width
        assert table.scroll_x == 0
        await pilot.press("right", "right", "right")
        await pilot.pause(0.3)  # the table's own scroll animation
        assert table.scroll_x > 0


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_credential_detail_pane_follows_the_selected_row(
    make_app, risky_config, size
) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        screen = await _open(app, pilot)
        table = screen.query_one("#credentials", DataTable)
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        risky = next(i for i, r in enumerate(rows) if r[0])
        alice = next(i for i, r in enumerate(rows) if r[2] == "alice")
        for target in (risky, alice):
            table.move_cursor(row=target)
            await pilot.pause()
            detail = str(screen.query_one("#cred-detail").render())
            if target == risky:
                assert detail.startswith("root user of account 444444444444")
                assert "MFA device (directory TOTP): no" in detail
                assert "key 1: active" in detail
            else:
                assert detail.startswith("user alice of account ")
                assert "arn:aws:iam::" in detail and ":user/alice" in detail
        assert "sign-in MFA is the IdP's amr claim" in flat_text(app)
