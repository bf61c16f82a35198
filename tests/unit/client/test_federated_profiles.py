"""Federated profiles (``aws-saml``, ``aws-web-identity``) and the ``aws_federation`` flag:
what is accepted, and every mistake named with its key, all at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.client.profiles import load_profiles
from broker.config import ConfigIssues, load_config
from broker.errors import StsError
from broker.minters.aws_federation import load_federation_settings, upstream_refusal
from providers.embedded.provider import EmbeddedProvider
from providers.oidc.settings import load_settings
from tests.client_support import write_config
from tests.unit.oidc.fakes import make_context

ROLE = 'role_arn = "arn:aws:iam::111122223333:role/Dev"\n'
PRINCIPAL = 'principal_arn = "arn:aws:iam::111122223333:saml-provider/Corp"\n'


def test_a_federated_profile_takes_its_role_from_role_arn(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        '\n[profiles.saml]\nminter = "aws-saml"\n' + ROLE + PRINCIPAL + 'region = "cn-north-1"\n'
        '\n[profiles.web]\nminter = "aws-web-identity"\n' + ROLE
        + 'endpoint_url = "http://127.0.0.1:5000"\nduration = 43200\n',
    )  # fmt: skip
    profiles = load_profiles(load_config(config))
    saml, web = profiles["saml"], profiles["web"]
    assert (saml.minter, saml.account, saml.role, saml.provider) == (
        "aws-saml",
        "111122223333",
        "Dev",
        "corp",
    )
    assert saml.principal_arn == "arn:aws:iam::111122223333:saml-provider/Corp"
    assert (web.minter, web.endpoint_url, web.duration) == (
        "aws-web-identity",
        "http://127.0.0.1:5000",
        43_200,
    )


def test_every_federated_mistake_is_reported(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        '\n[profiles.a]\nminter = "aws-saml"\naccount = "111122223333"\n'
        '\n[profiles.b]\nminter = "aws-web-identity"\n' + ROLE + PRINCIPAL
        + "duration = 43201\n"
        '\n[profiles.c]\nminter = "aws-saml"\nrole_arn = "Dev"\n'
        'principal_arn = "arn:aws:iam::111122223333:role/Dev"\nmfa_serial = "x"\n'
        '\n[profiles.d]\naccount = "111122223333"\nrole = "Dev"\n' + PRINCIPAL,
    )  # fmt: skip
    with pytest.raises(ConfigIssues) as refused:
        load_profiles(load_config(config))
    keys = sorted(issue.key for issue in refused.value.issues)
    assert keys == [
        "profiles.a.account",
        "profiles.a.role_arn",
        "profiles.b.duration",
        "profiles.b.principal_arn",
        "profiles.c.mfa_serial",
        "profiles.c.principal_arn",
        "profiles.c.role_arn",
        "profiles.d.principal_arn",
    ]


def test_the_flag_is_taken_by_oidc_and_refused_by_the_embedded_idp(tmp_path: Path) -> None:
    table = {"type": "oidc", "issuer": "https://idp.example.com", "client_id": "b"}
    assert load_settings("corp", {**table, "aws_federation": True}).aws_federation
    with pytest.raises(ConfigIssues) as wrong_type:
        load_settings("corp", {**table, "aws_federation": "yes"})
    assert wrong_type.value.issues[0].key == "providers.corp.aws_federation"
    with pytest.raises(ConfigIssues) as embedded:
        EmbeddedProvider.from_config(
            "demo", {"type": "embedded", "aws_federation": True}, make_context(tmp_path / "d")
        )
    (issue,) = embedded.value.issues
    assert issue.key == "providers.demo.aws_federation" and "cannot sign in to AWS" in issue.message


def test_minter_tables_name_the_default_sts(tmp_path: Path) -> None:
    config = write_config(
        tmp_path, '\n[minters.aws-saml]\nregion = "eu-west-1"\nendpoint_url = "https://vpce"\n'
    )
    target = load_federation_settings(load_config(config), "aws-saml")
    assert (target.region, target.endpoint_url) == ("eu-west-1", "https://vpce")
    assert load_federation_settings(load_config(config), "aws-web-identity").region == "us-east-1"
    for name, table, key in [
        ("region", 'region = "Mars"', "minters.aws-saml.region"),
        ("endpoint", 'endpoint_url = "ftp://x/path"', "minters.aws-saml.endpoint_url"),
        ("unknown", "port = 1", "minters.aws-saml.port"),
    ]:
        bad = write_config(tmp_path / name, f"\n[minters.aws-saml]\n{table}\n")
        with pytest.raises(ConfigIssues) as refused:
            load_federation_settings(load_config(bad), "aws-saml")
        assert [i.key for i in refused.value.issues] == [key]


@pytest.mark.parametrize(
    ("code", "key", "says"),
    [
        ("ExpiredTokenException", "ExpiredToken", "broker login corp"),
        ("AccessDenied", "AccessDenied", "trust policy"),
        ("InvalidIdentityToken", "InvalidIdentityToken", "IAM identity provider"),
        ("IDPRejectedClaim", "IDPRejectedClaim", "trust policy conditions"),
        ("RegionDisabledException", "RegionDisabled", "activate it"),
        ("Throttling", "Throttling", "wait a minute"),
        ("SomethingNew", "SomethingNew", "see AWS's message"),
    ],
)
def test_aws_refusals_become_one_line_saying_what_to_do(code: str, key: str, says: str) -> None:
    error = upstream_refusal(code, "AWS said\nthis", "AssumeRoleWithSAML", "corp")
    assert isinstance(error, StsError) and error.code == key
    text = str(error)
    assert "\n" not in text and says in text and code in text and "AWS said this" in text


def test_aws_refusals_fixed_by_a_new_sign_in_carry_the_terminal_apps_words() -> None:
    expired = upstream_refusal("ExpiredTokenException", "expired", "AssumeRoleWithSAML", "corp")
    assert str(expired).endswith("the sign-in has expired: run `broker login corp`")
    assert expired.tui_message.endswith("the sign-in has expired: press s to sign in to corp again")
    untrusted = upstream_refusal("InvalidIdentityToken", "no", "AssumeRoleWithWebIdentity", "web")
    assert untrusted.sign_in is not None and untrusted.sign_in.provider == "web"
    assert "then sign in again: press s to sign in to web again" in untrusted.tui_message
    denied = upstream_refusal("AccessDenied", "no", "AssumeRoleWithSAML", "corp")
    assert denied.sign_in is None and denied.tui_message == str(denied)


def test_a_federation_only_setup_needs_no_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from broker.commands.config import ValidateInput, run_validate

    config = tmp_path / "config"
    config.mkdir()
    toml = config / "broker.toml"
    federated = (
        '[providers.corp]\ntype = "oidc"\nissuer = "https://idp.example.com"\n'
        'client_id = "broker"\naws_federation = true\n\n'
        '[profiles.web]\nprovider = "corp"\nminter = "aws-web-identity"\n' + ROLE
    )
    toml.write_text(federated)
    monkeypatch.setenv("BROKER_CONFIG", str(config))
    problems = run_validate(ValidateInput())
    assert [(p.severity, p.message.split(":")[0]) for p in problems] == [("warning", "missing")]
    toml.write_text(federated + '\n[profiles.local]\nprovider = "corp"\n'
                    'account = "111122223333"\nrole = "Dev"\n')  # fmt: skip
    assert [p.severity for p in run_validate(ValidateInput())] == ["error"]
