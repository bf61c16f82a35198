"""Install and configuration edges through the real ``broker`` process: where the
configuration is found, ``broker init``, ``config validate``'s cross-checks, ``serve --port``,
and a data directory that cannot be used."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import CONFIG, one_line


@pytest.fixture
def user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broker_home: Path) -> Path:
    """No BROKER_CONFIG: the lookup order decides. XDG_CONFIG_HOME is private to the test."""
    monkeypatch.delenv("BROKER_CONFIG", raising=False)
    xdg = tmp_path / "xdg-config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    return xdg / "access-broker"


def _validate(run_broker, config: Path | None = None) -> tuple[int, list[dict[str, str]], str]:
    env = {"BROKER_CONFIG": str(config)} if config else None
    result = run_broker("config", "validate", "--json", env=env)
    return result.returncode, json.loads(result.stdout or "[]"), result.stderr


# -- lookup order and init ------------------------------------------------------------------


def test_without_any_configuration_the_packaged_demo_is_used(user_config, run_broker) -> None:
    assert not user_config.exists()
    code, problems, said = _validate(run_broker)
    assert code == 0
    assert said.strip().endswith(f"warning(s) in {CONFIG}")
    assert {p["file"] for p in problems} <= {str(CONFIG / "directory" / "permission-sets.toml")}, (
        problems
    )
    result = run_broker("assignments", "--user", "alice", "--json")
    assert result.returncode == 0, result.stderr
    assignments = json.loads(result.stdout)["assignments"]
    assert any(a["permission_set"] == "AdministratorAccess" for a in assignments)


def test_init_writes_a_commented_demo_the_broker_then_reads(user_config, run_broker) -> None:
    result = run_broker("init")
    assert result.returncode == 0, result.stderr
    assert str(user_config) in result.stdout and "Next:" in result.stdout
    text = (user_config / "broker.toml").read_text()
    assert text.startswith("# Access Broker configuration, written by `broker init --demo`")
    assert 'default_provider = "demo"' in text
    assert (user_config / "directory" / "users.toml").is_file()
    assert not list(user_config.glob(".init-*")), "the staging directory was left behind"

    # The user's directory now comes before the packaged demo: an error there is reported
    # against that file.
    with (user_config / "broker.toml").open("a") as handle:
        handle.write("\n[telemetry]\nenabled = true\n")
    code, problems, said = _validate(run_broker)
    assert code == 1
    assert said.strip().endswith(f"warning(s) in {user_config}")
    assert [p["file"] for p in problems if p["key"] == "telemetry"] == [
        str(user_config / "broker.toml")
    ]


def test_init_never_overwrites_without_force(user_config, run_broker) -> None:
    assert run_broker("init").returncode == 0
    edited = (user_config / "broker.toml").read_text() + "# mine\n"
    (user_config / "broker.toml").write_text(edited)

    again = run_broker("init", "--provider", "oidc")
    assert again.returncode == 3
    line = one_line(again.stderr)
    assert "already holds a configuration" in line and "--force" in line
    assert (user_config / "broker.toml").read_text() == edited

    forced = run_broker("init", "--provider", "oidc", "--force")
    assert forced.returncode == 0, forced.stderr
    assert 'type = "oidc"' in (user_config / "broker.toml").read_text()


def test_init_for_an_oidc_provider_is_valid_and_says_what_to_edit(user_config, run_broker) -> None:
    result = run_broker("init", "--provider", "oidc")
    assert result.returncode == 0, result.stderr
    assert "edit issuer and client_id in [providers.corp]" in result.stdout
    code, problems, _ = _validate(run_broker)
    assert code == 0, problems
    identity = (user_config / "directory" / "identity.toml").read_text()
    assert "[identity.corp]" in identity and "[identity.demo]" in identity
    providers = run_broker("providers", "--json")
    assert providers.returncode == 0, providers.stderr
    assert "corp" in providers.stdout


def test_init_for_saml_needs_the_idp_certificate_before_it_validates(
    user_config, run_broker
) -> None:
    result = run_broker("init", "--provider", "saml")
    assert result.returncode == 0, result.stderr
    assert "idp-corp.pem" in result.stdout
    code, problems, _ = _validate(run_broker)
    assert code == 1
    [error] = [p for p in problems if p["severity"] == "error"]
    assert error["key"] == "providers.corp"
    assert (
        "idp-corp.pem" in error["message"] and "cannot read the IdP certificate" in error["message"]
    )


def test_init_where_nothing_can_be_written_is_one_line_and_writes_nothing(
    tmp_path: Path, run_broker
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = run_broker("init", "--dir", str(blocker / "config"))
    assert result.returncode == 3
    assert "cannot create the configuration directory" in one_line(result.stderr)
    assert blocker.read_text() == ""


def test_a_named_configuration_without_broker_toml_is_refused_not_replaced(
    tmp_path: Path, user_config, run_broker
) -> None:
    assert run_broker("init").returncode == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_broker("assignments", "--user", "alice", env={"BROKER_CONFIG": str(empty)})
    assert result.returncode == 3
    assert f"no broker.toml in {empty}" in one_line(result.stderr)


# -- config validate ------------------------------------------------------------------------


def _config_with(tmp_path: Path, extra: str, *, directory: bool = True) -> Path:
    config = tmp_path / "config"
    config.mkdir()
    (config / "broker.toml").write_text((CONFIG / "broker.toml").read_text() + extra)
    if directory:
        for part in ("directory", "policies", "idp"):
            (config / part).symlink_to(CONFIG / part)
    return config


def test_validate_calls_a_configuration_without_a_directory_invalid(
    tmp_path: Path, run_broker
) -> None:
    config = _config_with(tmp_path, "", directory=False)
    code, problems, stderr = _validate(run_broker, config)
    assert code == 1
    [missing] = [p for p in problems if p["severity"] == "error"]
    assert missing["file"] == str(config / "directory")
    assert "missing" in missing["message"]
    assert "configuration invalid: 1 error(s)" in stderr
    # ... as every command that needs it fails.
    result = run_broker("assignments", "--user", "alice", env={"BROKER_CONFIG": str(config)})
    assert result.returncode != 0


@pytest.mark.parametrize(
    ("table", "limit", "source"),
    [
        # AdministratorAccess: session_duration PT4H in permission-sets.toml
        (
            'account = "444444444444"\nrole = "AWSReservedSSO_AdministratorAccess_0123456789abcdef"'
            "\nduration = 129600\n",
            14400,
            "permission set AdministratorAccess",
        ),
        # a plain role with max_session_duration = 3600 in roles.toml
        ('account = "444444444445"\nrole = "ci-deploy"\nduration = 7200\n', 3600, "ci-deploy"),
    ],
)
def test_validate_checks_a_profiles_duration_against_its_roles_maximum(
    tmp_path: Path, run_broker, table: str, limit: int, source: str
) -> None:
    config = _config_with(tmp_path, f'\n[profiles."too.long"]\n{table}')
    code, problems, _ = _validate(run_broker, config)
    assert code == 1
    [problem] = [p for p in problems if p["severity"] == "error"]
    assert problem["key"] == "profiles.too.long.duration"
    assert f"at most {limit}" in problem["message"] and source in problem["message"]
    assert '[profiles."too.long"]' in problem["message"]


def test_validate_accepts_a_duration_within_the_roles_maximum(tmp_path: Path, run_broker) -> None:
    config = _config_with(
        tmp_path, '\n[profiles.ok]\naccount = "444444444445"\nrole = "ci-deploy"\nduration = 3600\n'
    )
    code, problems, _ = _validate(run_broker, config)
    assert code == 0, problems


# -- serve --port ---------------------------------------------------------------------------


@pytest.mark.parametrize("port", ["99999", "0", "-1", "65536", "http"])
def test_serve_refuses_a_port_outside_1_to_65535(port: str, run_broker) -> None:
    result = run_broker("serve", "--port", port, timeout=30)
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert "--port" in line and "65535" in line
    assert "serving" not in result.stderr


# -- an unusable data directory -------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ("assignments", "--user", "alice"),
        ("directory", "show"),
        ("audit", "tail"),
        ("report", "credentials"),
    ],
)
@pytest.mark.parametrize("shape", ["a file", "under a file"])
def test_an_unusable_data_directory_is_one_line_and_exit_8(
    tmp_path: Path, run_broker, command: tuple[str, ...], shape: str
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    home = blocker if shape == "a file" else blocker / "home"
    result = run_broker(*command, env={"BROKER_HOME": str(home)})
    assert result.returncode == 8, result.stderr
    line = one_line(result.stderr)
    assert f"the data directory {home} cannot be used" in line
    assert f"{blocker} is not a directory" in line and "BROKER_HOME" in line
    assert "Traceback" not in result.stderr


def test_the_crash_handler_never_fails_when_the_log_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from broker.cli import _report_bug

    blocker = tmp_path / "home-is-a-file"
    blocker.write_text("")
    monkeypatch.setenv("BROKER_HOME", str(blocker))
    assert _report_bug(RuntimeError("a bug")) == 70
    err = capsys.readouterr().err
    assert one_line(err).startswith("broker: internal error (RuntimeError); it could not be logged")


def test_the_unknown_provider_hint_is_valid_toml_for_a_dotted_name(run_broker) -> None:
    import tomllib

    result = run_broker("login", "corp.eu")
    assert result.returncode == 3
    table = one_line(result.stderr).split("add a ", 1)[1].split(" table", 1)[0]
    assert table == '[providers."corp.eu"]'
    assert list(tomllib.loads(f'{table}\ntype = "oidc"\n')["providers"]) == ["corp.eu"]
