"""Reading the STS Query API's form parameters into typed requests (``broker.sts.requests``).

This is the wire edge: numbers are parsed (``Member must be a number``), required parameters
must be present (``Member must not be null``), member lists (``PolicyArns.member.N.arn``,
``Tags.member.N.Key``/``Value``, ``TransitiveTagKeys.member.N``) become tuples. The values'
own rules (lengths, patterns, sizes) are the operations' to check, so they hold for a request
built any other way too. A list parameter the action does not take is refused, never
ignored: a session would otherwise be minted without what the caller asked for.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from broker.errors import StsError
from broker.sts.parameters import MAX_TAGS, constraint_error, field_name, null_error
from broker.sts.requests import (
    AssumeRoleRequest,
    AssumeRoleWithSamlRequest,
    AssumeRoleWithWebIdentityRequest,
    GetCallerIdentityRequest,
    GetFederationTokenRequest,
    GetSessionTokenRequest,
    StsRequest,
    Tag,
)

__all__ = ["parse_request"]

_MAX_MEMBERS = 1000


def optional_int(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise constraint_error(raw, field_name(name), "Member must be a number") from None


def required(params: Mapping[str, str], name: str) -> str:
    value = params.get(name)
    if value is None:
        raise null_error(name)
    return value


def _members(params: Mapping[str, str], prefix: str) -> tuple[str, ...]:
    out: list[str] = []
    for index in range(1, _MAX_MEMBERS):
        value = params.get(f"{prefix}.member.{index}")
        if value is None:
            break
        out.append(value)
    return tuple(out)


def _numbered_arn(key: str, end: int) -> bool:
    match = re.fullmatch(r"PolicyArns\.member\.(\d+)\.arn", key)
    return match is not None and 1 <= int(match[1]) < end


def policy_arns(params: Mapping[str, str]) -> tuple[str, ...]:
    """Every ``PolicyArns.member.N.arn`` sent (1, 2, … without gaps); any other
    ``PolicyArns.`` parameter is refused."""
    arns: list[str] = []
    index = 1
    while f"PolicyArns.member.{index}.arn" in params:
        arns.append(params[f"PolicyArns.member.{index}.arn"])
        index += 1
    stray = [k for k in params if k.startswith("PolicyArns.") and not _numbered_arn(k, index)]
    if stray:
        raise constraint_error(
            stray[0], "policyArns", "members must be numbered 1, 2, … with an arn"
        )
    return tuple(arns)


def tags(params: Mapping[str, str]) -> tuple[Tag, ...]:
    """``Tags.member.N.Key``/``Value`` in order (a missing value is empty), up to one more
    than STS allows, so the operation can refuse the excess rather than drop it."""
    out: list[Tag] = []
    for index in range(1, MAX_TAGS + 2):
        key = params.get(f"Tags.member.{index}.Key")
        if key is None:
            break
        out.append((key, params.get(f"Tags.member.{index}.Value", "")))
    return tuple(out)


def _refuse_lists(params: Mapping[str, str], action: str, *prefixes: str) -> None:
    for name in params:
        for prefix in prefixes:
            if name == prefix or name.startswith(prefix + "."):
                raise StsError(
                    f"{action} takes no {prefix} parameter; remove it from the request.",
                    code="ValidationError",
                )


def _caller_identity(params: Mapping[str, str]) -> StsRequest:
    return GetCallerIdentityRequest()


def _session_token(params: Mapping[str, str]) -> StsRequest:
    return GetSessionTokenRequest(
        duration_seconds=optional_int(params, "DurationSeconds"),
        serial_number=params.get("SerialNumber"),
        token_code=params.get("TokenCode"),
    )


def _federation_token(params: Mapping[str, str]) -> StsRequest:
    _refuse_lists(params, "GetFederationToken", "TransitiveTagKeys")
    return GetFederationTokenRequest(
        name=required(params, "Name"),
        duration_seconds=optional_int(params, "DurationSeconds"),
        policy=params.get("Policy"),
        policy_arns=policy_arns(params),
        tags=tags(params),
    )


def _assume_role(params: Mapping[str, str]) -> StsRequest:
    return AssumeRoleRequest(
        role_arn=required(params, "RoleArn"),
        role_session_name=required(params, "RoleSessionName"),
        duration_seconds=optional_int(params, "DurationSeconds"),
        policy=params.get("Policy"),
        policy_arns=policy_arns(params),
        tags=tags(params),
        transitive_tag_keys=_members(params, "TransitiveTagKeys"),
        external_id=params.get("ExternalId"),
        serial_number=params.get("SerialNumber"),
        token_code=params.get("TokenCode"),
        source_identity=params.get("SourceIdentity"),
    )


def _web_identity(params: Mapping[str, str]) -> StsRequest:
    _refuse_lists(params, "AssumeRoleWithWebIdentity", "Tags", "TransitiveTagKeys")
    return AssumeRoleWithWebIdentityRequest(
        role_arn=required(params, "RoleArn"),
        role_session_name=required(params, "RoleSessionName"),
        web_identity_token=params.get("WebIdentityToken", ""),
        duration_seconds=optional_int(params, "DurationSeconds"),
        policy=params.get("Policy"),
        policy_arns=policy_arns(params),
    )


def _saml(params: Mapping[str, str]) -> StsRequest:
    _refuse_lists(params, "AssumeRoleWithSAML", "Tags", "TransitiveTagKeys")
    role_arn = required(params, "RoleArn")
    return AssumeRoleWithSamlRequest(
        role_arn=role_arn,
        principal_arn=required(params, "PrincipalArn"),
        saml_assertion=params.get("SAMLAssertion", ""),
        duration_seconds=optional_int(params, "DurationSeconds"),
        policy=params.get("Policy"),
        policy_arns=policy_arns(params),
    )


_PARSERS: dict[str, Callable[[Mapping[str, str]], StsRequest]] = {
    "GetCallerIdentity": _caller_identity,
    "GetSessionToken": _session_token,
    "GetFederationToken": _federation_token,
    "AssumeRole": _assume_role,
    "AssumeRoleWithWebIdentity": _web_identity,
    "AssumeRoleWithSAML": _saml,
}


def parse_request(action: str, params: Mapping[str, str]) -> StsRequest:
    """``action``'s typed request from its form parameters (``action`` is one the Query API
    answers; ``KeyError`` otherwise)."""
    return _PARSERS[action](params)
