"""Rendering typed STS results (``broker.sts.results``) as the Query API's result elements.

The elements go inside ``<{Action}Result>`` (``broker.sts.wire.result_xml``), named and
ordered as STS answers them; an absent optional value (``None``) writes no element.
"""

from __future__ import annotations

from broker.sts.results import (
    AssumedRoleUser,
    AssumeRoleResult,
    AssumeRoleWithSamlResult,
    AssumeRoleWithWebIdentityResult,
    CallerIdentityResult,
    FederationTokenResult,
    SessionCredentials,
    SessionTokenResult,
    StsResult,
    iso_time,
)
from broker.sts.wire import XmlValue

__all__ = ["result_elements"]

Elements = dict[str, XmlValue]


def _credentials(credentials: SessionCredentials) -> Elements:
    return {
        "AccessKeyId": credentials.access_key_id,
        "SecretAccessKey": credentials.secret_access_key,
        "SessionToken": credentials.session_token,
        "Expiration": iso_time(credentials.expiration),
    }


def _assumed(user: AssumedRoleUser) -> Elements:
    return {"AssumedRoleId": user.assumed_role_id, "Arn": user.arn}


def result_elements(result: StsResult) -> Elements:
    """The ``<{Action}Result>`` content of ``result``."""
    if isinstance(result, CallerIdentityResult):
        return {"UserId": result.user_id, "Account": result.account, "Arn": result.arn}
    credentials = _credentials(result.credentials)
    if isinstance(result, SessionTokenResult):
        return {"Credentials": credentials}
    if isinstance(result, FederationTokenResult):
        user = result.federated_user
        return {
            "Credentials": credentials,
            "FederatedUser": {"FederatedUserId": user.federated_user_id, "Arn": user.arn},
            "PackedPolicySize": result.packed_policy_size,
        }
    assumed = _assumed(result.assumed_role_user)
    if isinstance(result, AssumeRoleResult):
        return {
            "Credentials": credentials,
            "AssumedRoleUser": assumed,
            "PackedPolicySize": result.packed_policy_size,
            "SourceIdentity": result.source_identity,
        }
    if isinstance(result, AssumeRoleWithWebIdentityResult):
        return {
            "Credentials": credentials,
            "AssumedRoleUser": assumed,
            "SubjectFromWebIdentityToken": result.subject_from_web_identity_token,
            "PackedPolicySize": result.packed_policy_size,
            "Provider": result.provider,
            "Audience": result.audience,
        }
    saml: AssumeRoleWithSamlResult = result
    return {
        "Credentials": credentials,
        "AssumedRoleUser": assumed,
        "PackedPolicySize": saml.packed_policy_size,
        "Subject": saml.subject,
        "SubjectType": saml.subject_type,
        "Issuer": saml.issuer,
        "Audience": saml.audience,
        "NameQualifier": saml.name_qualifier,
        "SourceIdentity": saml.source_identity,
    }
