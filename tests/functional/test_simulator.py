"""The policy simulator screen, evaluating with the real engine."""

from __future__ import annotations

import json

import pytest
from textual.widgets import Input, Static, TextArea

from broker.tui.screens.simulator import SimulatorScreen
from tests.functional.screen_text import flat_text, screen_text

pytestmark = pytest.mark.anyio

ALLOW_GET = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
        ],
    }
)
DENY_WITHOUT_MFA = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "NeedMfa",
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
            }
        ],
    }
)


async def _fill(
    app, pilot, *, action: str, context: str = "", boundary: str = ""
) -> SimulatorScreen:
    app.go("sim")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, SimulatorScreen)
    screen.query_one("#sim-principal", Input).value = "arn:aws:iam::111122223333:user/alice"
    screen.query_one("#sim-action", Input).value = action
    screen.query_one("#sim-resource", Input).value = "arn:aws:s3:::reports/q1.csv"
    screen.query_one("#sim-identity", TextArea).text = ALLOW_GET
    screen.query_one("#sim-boundary", TextArea).text = boundary
    screen.query_one("#sim-context", TextArea).text = context
    return screen


async def test_allow_is_explained_layer_by_layer(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await _fill(app, pilot, action="s3:GetObject")
        await pilot.press("ctrl+r")
        await pilot.pause()
        text = flat_text(app)
        assert "ALLOW" in text
        assert "identity: Allow" in text
        assert "'Read' applies" in text
        assert "boundary: not applicable" in text
        assert "Portal › Simulator" in screen_text(app)


async def test_implicit_deny_in_words(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await _fill(app, pilot, action="s3:PutObject")
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert "DENY (implicit)" in flat_text(app)


async def test_context_keys_reach_the_conditions(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _fill(app, pilot, action="s3:GetObject")
        screen.query_one("#sim-identity", TextArea).text = json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    json.loads(ALLOW_GET)["Statement"][0],
                    json.loads(DENY_WITHOUT_MFA)["Statement"][0],
                ],
            }
        )
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert "DENY (explicit)" in flat_text(app)
        screen.query_one("#sim-context", TextArea).text = "aws:MultiFactorAuthPresent=true"
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert "ALLOW" in flat_text(app) and "DENY (explicit)" not in flat_text(app)


async def test_malformed_policy_is_one_line_with_the_problem(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _fill(app, pilot, action="s3:GetObject")
        screen.query_one(
            "#sim-identity", TextArea
        ).text = '{"Version": "2012-10-17", "Statement": [{"Effect": "Maybe"}]}'
        await pilot.press("ctrl+r")
        await pilot.pause()
        text = flat_text(app)
        assert "✗ identity policy:" in text
        assert "Traceback" not in text


async def test_principal_must_be_an_arn(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _fill(app, pilot, action="s3:GetObject")
        screen.query_one("#sim-principal", Input).value = "alice"
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert "principal: give an ARN with an account" in flat_text(app)


async def test_pick_a_persons_role_from_the_directory(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.go("sim")
        await pilot.pause()
        await pilot.press("ctrl+u")
        await pilot.pause()
        await pilot.press(*"carol datasci", "enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SimulatorScreen)
        principal = screen.query_one("#sim-principal", Input).value
        assert principal.startswith("arn:aws:sts::")
        assert ":assumed-role/AWSReservedSSO_DataScientist_" in principal
        assert principal.endswith("/carol")
        assert "aws:PrincipalArn=arn:aws:iam::" in screen.query_one("#sim-context", TextArea).text
        assert screen.query_one("#sim-identity", TextArea).text.strip().startswith("{")
        screen.query_one("#sim-action", Input).value = "iam:CreateUser"
        screen.query_one("#sim-resource", Input).value = "arn:aws:iam::111122223333:user/x"
        await pilot.press("ctrl+r")
        await pilot.pause()
        result = str(screen.query_one("#sim-result", Static).render())
        assert result.startswith("DENY (explicit)")
        assert "scp[0]: Allow" in result  # every SCP level of the account is evaluated
        assert "boundary: ExplicitDeny" in result  # the permission set's boundary decides


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_tab_labels_stay_inside_their_pane(make_app, size) -> None:
    from textual.widgets import Tab

    app = make_app()
    async with app.run_test(size=size) as pilot:
        app.go("sim")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SimulatorScreen)
        tabs_pane = screen.query_one("#sim-tabs").region
        result_pane = screen.query_one("#sim-result-box").region
        labels = list(screen.query_one("#sim-tabs").query(Tab))
        assert [str(t.label) for t in labels] == [
            "identity", "resource", "boundary", "SCPs", "session", "context"
        ]  # fmt: skip
        for tab in labels:  # every label whole, inside the tabs' pane, clear of the result
            assert tab.region.width >= len(str(tab.label))
            assert tabs_pane.contains_region(tab.region), (tab.label, tab.region, tabs_pane)
            assert not tab.region.overlaps(result_pane)
        assert "identity  resource  boundary  SCPs  session  context" in screen_text(app)
        # What each box takes is said in the empty box, not crammed into its label.
        await pilot.click("#sim-tabs Tab#--content-tab-tab-context")
        await pilot.pause()
        assert "context keys, one key=value per line" in screen_text(app)
