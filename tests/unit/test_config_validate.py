"""`broker config validate`: every problem in broker.toml (and the directory) at once."""

from __future__ import annotations

import json

from broker.errors import ConfigError

BROKEN = """
[broker]
default_provider = "corp"
colour = "blue"

[providers.demo]
type = "embedded"
port = "eighty"

[providers.okta]
type = "ldap"

[providers.partner]
type = "oidc"
client_id = "broker"
scopes = ["email"]

[profiles.dev]
account = "12345"
role = "Admin"

[telemetry]
enabled = true
"""


def _write(tmp_path, text: str):
    config = tmp_path / "config"
    config.mkdir()
    (config / "broker.toml").write_text(text)
    return config


def test_shipped_configuration_is_valid(run_broker) -> None:
    result = run_broker("config", "validate", "--json")
    assert result.returncode == 0, result.stderr
    problems = json.loads(result.stdout)
    assert all(p["severity"] == "warning" for p in problems)
    assert "configuration valid: 0 error(s)" in result.stderr


def test_every_problem_is_reported_at_once_with_file_and_key(tmp_path, run_broker) -> None:
    config = _write(tmp_path, BROKEN)
    result = run_broker("config", "validate", "--json", env={"BROKER_CONFIG": str(config)})
    assert result.returncode == 1
    problems = {p["key"]: p["message"] for p in json.loads(result.stdout)}
    assert problems["telemetry"].startswith("unknown section (known: broker, minters")
    assert problems["broker.colour"] == "unknown key (known: default_provider)"
    assert problems["broker.default_provider"] == (
        "names 'corp', which has no [providers.corp] table"
    )
    assert "unknown provider type 'ldap'; installed:" in problems["providers.okta"]
    assert "embedded" in problems["providers.okta"]
    assert problems["providers.demo.port"] == "expected int, got str"
    assert problems["providers.partner.issuer"] == "required key is missing"
    assert any(key.startswith("profiles.dev") for key in problems), problems
    # every problem names broker.toml, except that the directory is missing beside it
    files = {p["file"] for p in json.loads(result.stdout)}
    assert files == {str(config / "broker.toml"), str(config / "directory")}


def test_human_output_is_one_line_per_problem(tmp_path, run_broker) -> None:
    config = _write(tmp_path, BROKEN)
    result = run_broker("config", "validate", env={"BROKER_CONFIG": str(config)})
    lines = result.stdout.splitlines()
    assert result.returncode == 1
    assert len(lines) >= 7
    assert all(": error: " in line for line in lines)
    assert "configuration invalid" in result.stderr


def test_unreadable_toml_is_one_line_and_a_config_exit_code(tmp_path, run_broker) -> None:
    config = _write(tmp_path, "[broker\n")
    result = run_broker("config", "validate", env={"BROKER_CONFIG": str(config)})
    assert result.returncode == ConfigError.exit_code
    assert result.stdout == ""
    assert "invalid TOML" in result.stderr and len(result.stderr.splitlines()) == 1
