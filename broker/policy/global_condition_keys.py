"""The global condition keys (IAM User Guide, "AWS global condition context keys"), and the
keys of identity providers that role trust policies use ("Available keys for AWS STS
federation"), so that a misspelled one is reported instead of silently never matching.

Keys are case-insensitive; the spelling here is AWS's, used in suggestions.
"""

from __future__ import annotations

import difflib

__all__ = ["closest_global_keys", "is_global_key"]

GLOBAL_KEYS = (
    # properties of the principal
    "aws:PrincipalArn",
    "aws:PrincipalAccount",
    "aws:PrincipalOrgPaths",
    "aws:PrincipalOrgID",
    "aws:PrincipalIsAWSService",
    "aws:PrincipalServiceName",
    "aws:PrincipalServiceNamesList",
    "aws:PrincipalType",
    "aws:userid",
    "aws:username",
    # properties of a role session
    "aws:AssumedRoot",
    "aws:FederatedProvider",
    "aws:TokenIssueTime",
    "aws:MultiFactorAuthAge",
    "aws:MultiFactorAuthPresent",
    "aws:ChatbotSourceArn",
    "aws:Ec2InstanceSourceVpc",
    "aws:Ec2InstanceSourcePrivateIPv4",
    "aws:SourceIdentity",
    # properties of the network
    "aws:SourceIp",
    "aws:SourceVpc",
    "aws:SourceVpcArn",
    "aws:SourceVpce",
    "aws:VpceAccount",
    "aws:VpceOrgID",
    "aws:VpceOrgPaths",
    "aws:VpcSourceIp",
    # properties of the resource
    "aws:ResourceAccount",
    "aws:ResourceOrgID",
    "aws:ResourceOrgPaths",
    # properties of the request
    "aws:CalledVia",
    "aws:CalledViaFirst",
    "aws:CalledViaLast",
    "aws:ViaAWSService",
    "aws:CurrentTime",
    "aws:EpochTime",
    "aws:referer",
    "aws:RequestedRegion",
    "aws:TagKeys",
    "aws:SecureTransport",
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:SourceOrgID",
    "aws:SourceOrgPaths",
    "aws:UserAgent",
    "aws:IsMcpServiceAction",
    "aws:ViaAWSMCPService",
    "aws:CalledViaAWSMCP",
    # session properties AWS sets for other services' credentials
    "ec2:RoleDelivery",
    "ec2:SourceInstanceArn",
    "glue:RoleAssumedBy",
    "glue:CredentialIssuingService",
    "lambda:SourceFunctionArn",
    "ssm:SourceInstanceArn",
    "identitystore:UserId",
)
# Keys that name a tag or attribute after the slash.
GLOBAL_KEY_PREFIXES = ("aws:PrincipalTag/", "aws:RequestTag/", "aws:ResourceTag/")

_BY_LOWER = {key.lower(): key for key in GLOBAL_KEYS}
_PREFIXES_LOWER = tuple(p.lower() for p in GLOBAL_KEY_PREFIXES)


def is_global_key(key: str) -> bool:
    lowered = key.lower()
    if lowered in _BY_LOWER:
        return True
    return any(lowered.startswith(p) and len(lowered) > len(p) for p in _PREFIXES_LOWER)


def closest_global_keys(key: str, count: int = 3) -> list[str]:
    """AWS's spelling of the global keys nearest to ``key`` (for "did you mean")."""
    lowered = key.lower()
    head, slash, _ = lowered.partition("/")
    if slash:
        found = difflib.get_close_matches(head + "/", list(_PREFIXES_LOWER), 1, 0.7)
        tail = key.partition("/")[2]
        return [GLOBAL_KEY_PREFIXES[_PREFIXES_LOWER.index(f)] + tail for f in found]
    found = difflib.get_close_matches(lowered, list(_BY_LOWER), count, 0.7)
    return [_BY_LOWER[f] for f in found]
