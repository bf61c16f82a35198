"""``broker configure aws``: a managed block, everything else untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.client.awsconfig import BEGIN, END, plan_aws_config
from broker.client.profiles import Profile
from broker.commands.client import ConfigureInput, run_configure_aws
from broker.errors import UsageError


def _profile(name: str, role: str = "Developer", region: str | None = None) -> Profile:
    return Profile(name, "corp", "111122223333", role, "local", 3600, region)


USER_OWN = "[default]\nregion = us-east-1\n\n[profile mine]\noutput = json\n"


def test_block_is_added_and_the_rest_kept_byte_for_byte() -> None:
    plan = plan_aws_config(USER_OWN, [_profile("dev", region="eu-west-1")], command="/bin/broker")
    assert plan.text.startswith(USER_OWN)
    block = plan.text[len(USER_OWN) :]
    assert block == (
        f"{BEGIN}\n[profile dev]\n"
        "credential_process = /bin/broker credential-process --profile dev\n"
        f"region = eu-west-1\n{END}\n"
    )
    assert plan.written == ("dev",)


def test_rerun_replaces_only_the_block_and_keeps_what_follows() -> None:
    first = plan_aws_config(USER_OWN, [_profile("dev")]).text + "[profile after]\nregion = x\n"
    second = plan_aws_config(first, [_profile("dev"), _profile("ops", "Operator")])
    assert second.text.count(BEGIN) == 1 and second.text.count(END) == 1
    assert second.text.startswith(USER_OWN)
    assert second.text.endswith(f"{END}\n[profile after]\nregion = x\n")
    assert "[profile ops]" in second.text


def test_profiles_gone_from_config_are_kept_unless_pruned() -> None:
    text = plan_aws_config("", [_profile("dev"), _profile("old")]).text
    kept = plan_aws_config(text, [_profile("dev")])
    assert kept.kept == ("old",) and "[profile old]" in kept.text
    pruned = plan_aws_config(text, [_profile("dev")], prune=True)
    assert pruned.pruned == ("old",) and "[profile old]" not in pruned.text


def test_a_profile_defined_by_the_user_is_never_overwritten() -> None:
    plan = plan_aws_config(USER_OWN, [_profile("mine")])
    assert plan.skipped == ("mine",)
    assert plan.text.count("[profile mine]") == 1


def test_name_template() -> None:
    plan = plan_aws_config("", [_profile("dev")], template="{provider}-{account}-{role}")
    assert "[profile corp-111122223333-Developer]" in plan.text
    assert "--profile dev\n" in plan.text
    with pytest.raises(ValueError, match="invalid profile name"):
        plan_aws_config("", [_profile("dev")], template="{role} x")
    with pytest.raises(ValueError, match="bad name template"):
        plan_aws_config("", [_profile("dev")], template="{nope}")


def test_damaged_markers_are_refused() -> None:
    with pytest.raises(ValueError, match="markers are damaged"):
        plan_aws_config(f"{BEGIN}\n[profile x]\n", [_profile("dev")])


def test_run_writes_a_backup_and_a_private_file(tmp_path: Path) -> None:
    target = tmp_path / "aws" / "config"
    target.parent.mkdir()
    target.write_text(USER_OWN)
    inputs = ConfigureInput(target, "{profile}", prune=False, dry_run=False, command="broker")
    lines = run_configure_aws(inputs, [_profile("dev")])
    assert "wrote profile dev" in lines
    backup = tmp_path / "aws" / "config.broker-backup"
    assert backup.read_text() == USER_OWN
    assert backup.stat().st_mode & 0o077 == 0
    assert target.stat().st_mode & 0o077 == 0
    assert "--profile dev" in target.read_text()
    again = run_configure_aws(inputs, [_profile("dev")])
    assert again[-1].endswith("already up to date")


def test_run_reports_damaged_file_as_usage_error(tmp_path: Path) -> None:
    target = tmp_path / "config"
    target.write_text(f"{END}\n{BEGIN}\n")
    inputs = ConfigureInput(target, "{profile}", prune=False, dry_run=False, command="broker")
    with pytest.raises(UsageError, match="markers are damaged"):
        run_configure_aws(inputs, [_profile("dev")])
