"""IAM Identity Center's names and limits: provisioned role names, ARNs, session durations.

Identity Center names the role it provisions for a permission set
``AWSReservedSSO_<PermissionSetName>_<16 hex>`` under the path
``/aws-reserved/sso.amazonaws.com/``. AWS picks the suffix at random; the broker derives it from
the account id and permission set name, so a role keeps its ARN across rebuilds and replicas.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "BROKER_SAML_PROVIDER",
    "FULL_AWS_ACCESS",
    "MAX_ROLE_SESSION",
    "MIN_ROLE_SESSION",
    "SSO_ROLE_PATH",
    "parse_iso_duration",
    "role_arn",
    "sso_role_name",
    "sso_trust_policy",
    "valid_account_id",
    "valid_permission_set_name",
]

SSO_ROLE_PATH = "/aws-reserved/sso.amazonaws.com/"
# The federated principal the broker signs in as, in every account: provisioned roles trust
# only this principal (an IAM SAML provider named like Identity Center's own).
BROKER_SAML_PROVIDER = "AWSSSO_AccessBroker_DO_NOT_DELETE"
# The SCP AWS attaches to every root, OU and account by default.
FULL_AWS_ACCESS: Mapping[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "FullAWSAccess", "Effect": "Allow", "Action": "*", "Resource": "*"}],
}
MIN_ROLE_SESSION = 3600
MAX_ROLE_SESSION = 43200

_ACCOUNT_ID = re.compile(r"[0-9]{12}")
# Identity Center: 1-32 characters from [\w+=,.@-].
_PERMISSION_SET_NAME = re.compile(r"[A-Za-z0-9_+=,.@-]{1,32}")
_DURATION = re.compile(r"P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?")


def valid_account_id(value: str) -> bool:
    return bool(_ACCOUNT_ID.fullmatch(value))


def valid_permission_set_name(value: str) -> bool:
    return bool(_PERMISSION_SET_NAME.fullmatch(value))


def parse_iso_duration(text: str) -> int | None:
    """Seconds in an ISO 8601 duration of days/hours/minutes/seconds (``PT8H``), else None."""
    match = _DURATION.fullmatch(text)
    if match is None or text in ("P", "PT") or text.endswith("T"):
        return None
    parts = {k: int(v) if v else 0 for k, v in match.groupdict().items()}
    return parts["d"] * 86400 + parts["h"] * 3600 + parts["m"] * 60 + parts["s"]


def sso_role_name(permission_set: str, account_id: str) -> str:
    suffix = hashlib.sha256(f"{account_id}/{permission_set}".encode()).hexdigest()[:16]
    return f"AWSReservedSSO_{permission_set}_{suffix}"


def role_arn(account_id: str, name: str, path: str = "/") -> str:
    return f"arn:aws:iam::{account_id}:role{path}{name}"


def sso_trust_policy(account_id: str) -> Mapping[str, Any]:
    """The trust policy of a provisioned role: the broker's federated principal only."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {
                    "Federated": f"arn:aws:iam::{account_id}:saml-provider/{BROKER_SAML_PROVIDER}"
                },
                "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession", "sts:SetSourceIdentity"],
                "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}},
            }
        ],
    }
