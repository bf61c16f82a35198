"""The aws minter's own rules refuse before AWS is ever asked (the client factory must not run)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from broker.config import BrokerConfig
from broker.errors import ConfigError, StsError
from broker.minters.aws import AwsMinter, role_arn
from broker.minters.aws_names import derived_name, name_for, session_tags
from broker.minters.aws_settings import AwsAccount, load_aws_settings
from broker.minters.base import MintRequest
from tests.minter_support import ACCOUNT, MemoryAudit, identity, settings


def _never(_account: AwsAccount) -> object:
    raise AssertionError("AWS was asked although the broker's rules refuse")


def _refusal(minter: AwsMinter, request: MintRequest, **who: object) -> StsError:
    with pytest.raises(StsError) as caught:
        minter.mint(identity(**who), request)  # type: ignore[arg-type]
    return caught.value


@pytest.mark.parametrize(
    ("account", "request_", "who", "code"),
    [
        ({}, MintRequest("999988887777", "AllowedReadOnly"), {}, "AccessDenied"),
        ({}, MintRequest(ACCOUNT, "NotListed"), {}, "AccessDenied"),
        (
            {"require_mfa": True},
            MintRequest(ACCOUNT, "AllowedReadOnly"),
            {"mfa": False},
            "AccessDenied",
        ),
        ({}, MintRequest(ACCOUNT, "AllowedReadOnly", duration_seconds=899), {}, "ValidationError"),
        ({}, MintRequest(ACCOUNT, "AllowedReadOnly", duration_seconds=3601), {}, "ValidationError"),
        (
            {"max_session_duration": 43_200},
            MintRequest(ACCOUNT, "AllowedReadOnly", duration_seconds=43_201),
            {},
            "ValidationError",
        ),
        (
            {"method": "federation-token"},
            MintRequest(ACCOUNT, "AllowedReadOnly", duration_seconds=129_601, session_policy="{}"),
            {},
            "ValidationError",
        ),
        (
            {"method": "federation-token"},
            MintRequest(ACCOUNT, "AllowedReadOnly"),
            {},
            "ValidationError",
        ),
        (
            {"method": "federation-token"},
            MintRequest(ACCOUNT, "NotListed", session_policy="{}"),
            {},
            "AccessDenied",
        ),
        (
            {},
            MintRequest(ACCOUNT, "AllowedReadOnly", duration_seconds=3600),
            {"session_end": datetime.now(UTC) + timedelta(minutes=30)},
            "ValidationError",
        ),
        (
            {},
            MintRequest(ACCOUNT, "AllowedReadOnly"),
            {"expires_in": timedelta(seconds=-1)},
            "ExpiredToken",
        ),
        (
            {},
            MintRequest(ACCOUNT, "AllowedReadOnly", session_name="bob smith"),
            {},
            "ValidationError",
        ),
    ],
)
def test_refused_before_aws_and_audited(
    account: dict[str, object], request_: MintRequest, who: dict[str, object], code: str
) -> None:
    audit = MemoryAudit()
    minter = AwsMinter(settings(**account), audit, client_factory=_never)
    error = _refusal(minter, request_, **who)
    assert error.code == code
    assert "\n" not in str(error)
    assert [event["errorCode"] for event in audit.events] == [code]


def test_refusal_is_not_handed_out_when_the_audit_log_is_broken() -> None:
    from broker.errors import AuditError

    minter = AwsMinter(settings(), MemoryAudit(broken=True), client_factory=_never)
    with pytest.raises(AuditError):
        minter.mint(identity(), MintRequest(ACCOUNT, "NotListed"))


def test_names_fit_aws_rules() -> None:
    who = identity(email="alice+ops/eu@example.com").claims
    assert derived_name(who, 64) == "alice+ops-eu@example.com"
    assert len(derived_name(identity(email="a" * 80 + "@example.com").claims, 32)) == 32
    assert derived_name(identity(email="x").claims, 64) == "x-"
    # the chain passes the person's own email: fitted, not refused
    assert (
        name_for(
            identity(email="c" * 40 + "@example.com").claims, "c" * 40 + "@example.com", 32, "Name"
        )
        == "c" * 32
    )
    with pytest.raises(StsError):
        name_for(who, "x", 64, "RoleSessionName")


def test_session_tags_from_claims_and_refused_when_they_do_not_fit() -> None:
    who = identity(groups=("developers", "oncall")).claims
    assert session_tags(who, {"email": "email", "team": "groups"}) == [
        {"Key": "email", "Value": "alice@example.com"},
        {"Key": "team", "Value": "developers:oncall"},
    ]
    assert session_tags(identity(email=None).claims, {"email": "email"}) == []
    with pytest.raises(StsError) as caught:
        session_tags(identity(groups=("a,b",)).claims, {"team": "groups"})
    assert caught.value.code == "ValidationError"


def test_role_arn_uses_partition_and_path() -> None:
    account = AwsAccount(partition="aws-us-gov", role_path="/aws-reserved/sso.amazonaws.com/")
    assert role_arn(ACCOUNT, account, "R") == (
        "arn:aws-us-gov:iam::111122223333:role/aws-reserved/sso.amazonaws.com/R"
    )


def _config(tmp_path, table: dict[str, object]) -> BrokerConfig:  # type: ignore[no-untyped-def]
    return BrokerConfig(
        directory=tmp_path, file=tmp_path / "broker.toml", sections={"minters": {"aws": table}}
    )


def test_settings_are_strict_and_report_every_problem(tmp_path) -> None:  # type: ignore[no-untyped-def]
    table = {
        "accounts": {
            "12345": {
                "roles": ["bad role"],
                "max_session_duration": 100,
                "colour": "red",
                "session_tags": {"email": "password"},
            },
        }
    }
    with pytest.raises(ConfigError) as caught:
        load_aws_settings(_config(tmp_path, table))
    keys = {issue.key for issue in caught.value.issues}  # type: ignore[attr-defined]
    assert "minters.aws.accounts.12345.colour" in keys
    table["accounts"]["12345"].pop("colour")  # type: ignore[index]
    with pytest.raises(ConfigError) as caught:
        load_aws_settings(_config(tmp_path, table))
    keys = {issue.key for issue in caught.value.issues}  # type: ignore[attr-defined]
    assert keys == {
        "minters.aws.accounts.12345",
        "minters.aws.accounts.12345.roles[0]",
        "minters.aws.accounts.12345.max_session_duration",
        "minters.aws.accounts.12345.session_tags.email",
    }


def test_settings_read(tmp_path) -> None:  # type: ignore[no-untyped-def]
    table = {
        "accounts": {
            ACCOUNT: {
                "method": "federation-token",
                "profile": "up",
                "session_tags": {"email": "email"},
            }
        }
    }
    loaded = load_aws_settings(_config(tmp_path, table))
    assert loaded.accounts[ACCOUNT].method == "federation-token"
    assert loaded.accounts[ACCOUNT].session_tags == {"email": "email"}
    assert loaded.federation_url == "https://signin.aws.amazon.com/federation"


def test_directory_assignment_required_before_aws() -> None:
    from broker.minters.local import AssignedUser

    asked: list[tuple[str, str, str]] = []

    def nobody(claims, account_id: str, role_name: str) -> AssignedUser | None:  # type: ignore[no-untyped-def]
        asked.append((claims.email, account_id, role_name))
        return None

    audit = MemoryAudit()
    minter = AwsMinter(settings(), audit, client_factory=_never, assignments=nobody)
    error = _refusal(minter, MintRequest(ACCOUNT, "AllowedReadOnly"))
    assert error.code == "AccessDenied"
    assert "not assigned" in str(error)
    assert asked == [("alice@example.com", ACCOUNT, "AllowedReadOnly")]


def test_build_minter_on_the_shipped_config(broker_home) -> None:  # type: ignore[no-untyped-def]
    from broker.config import load_config
    from broker.minters.aws import build_minter
    from broker.sts.state_handle import StateHandle

    minter = build_minter(load_config(), StateHandle(broker_home, None))
    assert minter.name == "aws"
    with pytest.raises(StsError) as caught:
        minter.mint(identity(), MintRequest("999988887777", "ReadOnly"))
    assert caught.value.code == "AccessDenied"
    assert "not served by the aws minter" in str(caught.value)
    from tests.state_support import embedded_state

    chain = embedded_state(broker_home).shared.audit
    (event,) = list(chain.records())  # the refusal is in the state's one audit chain
    assert event["errorCode"] == "AccessDenied"
    assert chain.verify().events == 1


def test_config_validate_reports_the_aws_minter_table(tmp_path, run_broker) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "config"
    config.mkdir()
    (config / "broker.toml").write_text(
        '[minters.aws.accounts."12345"]\nroles = ["bad role"]\nmax_session_duration = 60\n'
    )
    result = run_broker("config", "validate", "--json", env={"BROKER_CONFIG": str(config)})
    assert result.returncode == 1
    keys = {p["key"] for p in json.loads(result.stdout)}
    assert {
        "minters.aws.accounts.12345",
        "minters.aws.accounts.12345.roles[0]",
        "minters.aws.accounts.12345.max_session_duration",
    } <= keys
