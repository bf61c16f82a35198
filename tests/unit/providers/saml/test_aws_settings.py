"""An ``aws_federation`` SAML provider: AWS's sign-in endpoint and audience, allow-listed, and
none of the loopback ACS's settings (they would be parsed and never used)."""

from __future__ import annotations

import re
import tomllib
from typing import Any

import pytest

from broker.config import ConfigIssues
from providers.saml.settings import load_settings
from tests.conftest import REPO

AWS = {
    "type": "saml",
    "idp_entity_id": "https://idp.example.com/metadata",
    "sso_url": "https://idp.example.com/sso",
    "idp_certificate": "idp.pem",
    "aws_federation": True,
}


def _issues(table: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ConfigIssues) as caught:
        load_settings("corp", table, file="broker.toml")
    return {
        issue.key.removeprefix("providers.corp."): issue.message for issue in caught.value.issues
    }


def test_the_defaults_are_aws_global_endpoint_and_entity_id() -> None:
    settings = load_settings("corp", AWS, file="broker.toml")
    assert settings.signin_url == "https://signin.aws.amazon.com/saml"
    assert settings.audience == "urn:amazon:webservices"


@pytest.mark.parametrize(
    ("url", "audience"),
    [
        ("https://eu-west-1.signin.aws.amazon.com/saml", "urn:amazon:webservices"),
        ("https://ap-southeast-2.signin.aws.amazon.com/saml", "urn:amazon:webservices"),
        ("https://signin.amazonaws.cn/saml", "urn:amazon:webservices:cn-north-1"),
        ("https://signin.amazonaws-us-gov.com/saml", "urn:amazon:webservices:govcloud"),
    ],
)
def test_regional_and_partition_endpoints_take_their_audience(url: str, audience: str) -> None:
    settings = load_settings("corp", {**AWS, "aws_signin_url": url}, file="broker.toml")
    assert (settings.signin_url, settings.audience) == (url, audience)
    as_url = load_settings(
        "corp", {**AWS, "aws_signin_url": url, "aws_audience": url}, file="broker.toml"
    )
    assert as_url.audience == url


@pytest.mark.parametrize(
    "url",
    [
        "http://signin.aws.amazon.com/saml",
        "https://signin.aws.amazon.com/saml/",
        "https://signin.aws.amazon.com.evil.test/saml",
        "https://evil.test/signin.aws.amazon.com/saml",
        "https://eu-west-1.signin.aws.amazon.com/other",
        "http://127.0.0.1:8443/saml/acs",
        "https://x.eu-west-1.signin.aws.amazon.com/saml",
        "",
    ],
)
def test_anything_but_an_aws_sign_in_endpoint_is_refused(url: str) -> None:
    issues = _issues({**AWS, "aws_signin_url": url})
    assert list(issues) == ["aws_signin_url"]
    assert "AWS sign-in endpoint" in issues["aws_signin_url"]


def test_an_audience_aws_would_not_accept_is_refused() -> None:
    assert list(_issues({**AWS, "aws_audience": ""})) == ["aws_audience"]
    issues = _issues({**AWS, "aws_audience": "urn:example:broker"})
    assert list(issues) == ["aws_audience"] and "urn:amazon:webservices" in issues["aws_audience"]
    cn_with_global = {"aws_signin_url": "https://signin.amazonaws.cn/saml"}
    issues = _issues({**AWS, **cn_with_global, "aws_audience": "urn:amazon:webservices"})
    assert list(issues) == ["aws_audience"]


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ({"sp_entity_id": "urn:example:broker"}, "sp_entity_id"),
        ({"allow_idp_initiated": True, "acs_port": 8443}, "allow_idp_initiated"),
        ({"acs_port": 8443}, "acs_port"),
    ],
)
def test_loopback_settings_are_refused_for_aws(extra: dict[str, Any], key: str) -> None:
    issues = _issues({**AWS, **extra})
    assert key in issues and "remove it" in issues[key]


def test_aws_keys_without_the_flag_are_refused_and_sp_entity_id_stays_required() -> None:
    plain = {k: v for k, v in AWS.items() if k != "aws_federation"}
    issues = _issues({**plain, "aws_signin_url": "https://signin.aws.amazon.com/saml"})
    assert set(issues) == {"aws_signin_url", "sp_entity_id"}
    assert "only for an aws_federation" in issues["aws_signin_url"]


def test_the_readme_configuration_is_valid_as_it_stands() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("### SAML straight into AWS", 1)[1]
    block = re.search(r"```toml\n(.*?)```", section, re.S)
    assert block is not None
    table = tomllib.loads(block.group(1))["providers"]["corp"]
    settings = load_settings("corp", table, file="README.md")
    assert settings.aws_federation and settings.audience == "urn:amazon:webservices"


def test_sso_url_is_optional_for_a_capture_only_provider_and_checked_when_given() -> None:
    without = {key: value for key, value in AWS.items() if key != "sso_url"}
    assert load_settings("corp", without, file="broker.toml").sso_url == ""
    issues = _issues({**AWS, "sso_url": "http://idp.example.com/sso"})
    assert list(issues) == ["sso_url"] and "https" in issues["sso_url"]


def test_sso_url_stays_required_where_the_loopback_sign_in_uses_it() -> None:
    loopback = {key: value for key, value in AWS.items() if key != "sso_url"}
    loopback.update(aws_federation=False, sp_entity_id="urn:example:broker")
    issues = _issues(loopback)
    assert list(issues) == ["sso_url"]
    assert issues["sso_url"].startswith("required key is missing")
    assert "\n" not in issues["sso_url"]
    assert list(_issues({**loopback, "sso_url": ""})) == ["sso_url"]
