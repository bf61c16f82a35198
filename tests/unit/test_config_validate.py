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


IDENTITY_CENTER = (
    '[providers.work]\ntype = "aws-identity-center"\n'
    'start_url = "https://example-start.awsapps.com/start"\nregion = "eu-west-1"\n\n'
)
FEDERATED_OIDC = (
    '[providers.corp]\ntype = "oidc"\nissuer = "https://idp.example.com"\n'
    'client_id = "broker"\naws_federation = true\n\n'
)
CENTER_PROFILE = (
    '[profiles.dev]\nprovider = "work"\naccount = "111122223333"\nrole = "Dev"\n'
    'minter = "aws-identity-center"\n'
)


def _directory_verdict(tmp_path, run_broker, text: str) -> tuple[int, list[tuple[str, str]]]:
    """Exit code, and (severity, key) of every problem that names the missing directory or a
    profile."""
    tmp_path.mkdir(exist_ok=True)
    config = _write(tmp_path, text)
    result = run_broker("config", "validate", "--json", env={"BROKER_CONFIG": str(config)})
    named = [
        (p["severity"], p["key"] or p["file"])
        for p in json.loads(result.stdout)
        if p["file"] == str(config / "directory") or p["key"].startswith("profiles.")
    ]
    return result.returncode, [(s, k.replace(str(config), "CONFIG")) for s, k in named]


def test_identity_center_alone_needs_no_directory_even_with_a_bad_profile(
    tmp_path, run_broker
) -> None:
    """The directory verdict reads the profiles' minters as written: a profile refused for
    its own reason is reported once, without a second, misleading missing-directory error."""
    assert _directory_verdict(tmp_path / "a", run_broker, IDENTITY_CENTER + CENTER_PROFILE) == (
        0,
        [],
    )
    code, named = _directory_verdict(
        tmp_path / "b", run_broker, IDENTITY_CENTER + CENTER_PROFILE + "duration = 7200\n"
    )
    assert (code, named) == (1, [("error", "profiles.dev.duration")])


def test_identity_center_beside_a_federating_idp_makes_the_directory_optional(
    tmp_path, run_broker
) -> None:
    web = '\n[profiles.web]\nprovider = "corp"\nminter = "aws-web-identity"\n'
    web += 'role_arn = "arn:aws:iam::111122223333:role/Dev"\n'
    code, named = _directory_verdict(
        tmp_path, run_broker, IDENTITY_CENTER + FEDERATED_OIDC + CENTER_PROFILE + web
    )
    assert (code, named) == (0, [("warning", "CONFIG/directory")])


def test_a_profile_minted_here_or_chained_needs_the_directory(tmp_path, run_broker) -> None:
    local = '\n[profiles.local]\nprovider = "work"\naccount = "111122223333"\nrole = "Dev"\n'
    chained = (
        '\n[profiles.hop]\nsource_profile = "dev"\nminter = "aws-identity-center"\n'
        'role_arn = "arn:aws:iam::111122223333:role/Next"\n'
    )
    for name, extra in (("local", local), ("chained", chained)):
        code, named = _directory_verdict(
            tmp_path / name, run_broker, IDENTITY_CENTER + CENTER_PROFILE + extra
        )
        assert code == 1 and ("error", "CONFIG/directory") in named, (name, named)
