"""STS's session-duration rules, refused with STS's own ValidationError text, never clamped.

* every call: at least 900 s;
* AssumeRole, AssumeRoleWithWebIdentity, AssumeRoleWithSAML: at most 43,200 s by the API, and
  at most the role's MaxSessionDuration (1–12 h; default request 1 h); role chaining (assuming
  a role with role-session credentials) at most 1 h;
* GetSessionToken and GetFederationToken: at most 129,600 s (36 h), default 43,200 s (12 h);
  the root user at most 3,600 s;
* never past the identity provider's session (``SessionNotOnOrAfter``, OIDC session end).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from broker.errors import StsError

__all__ = [
    "MAX_DURATION",
    "MIN_DURATION",
    "DurationRequest",
    "Operation",
    "session_expiry",
]

MIN_DURATION = 900
MAX_DURATION = 129_600
_ASSUME_ROLE_API_MAX = 43_200
_CHAINED_MAX = 3_600
_ROOT_MAX = 3_600

Operation = Literal[
    "AssumeRole",
    "AssumeRoleWithWebIdentity",
    "AssumeRoleWithSAML",
    "GetSessionToken",
    "GetFederationToken",
]
_ROLE_OPERATIONS = ("AssumeRole", "AssumeRoleWithWebIdentity", "AssumeRoleWithSAML")


def _constraint(value: int, relation: str, bound: int) -> StsError:
    return StsError(
        f"1 validation error detected: Value '{value}' at 'durationSeconds' failed to satisfy "
        f"constraint: Member must have value {relation} {bound}",
        code="ValidationError",
    )


@dataclass(frozen=True)
class DurationRequest:
    """The facts the duration rules need.

    Args:
        operation: the STS action.
        requested: ``DurationSeconds`` as sent, or ``None`` for the default.
        role_max: the role's MaxSessionDuration (AssumeRole* only).
        chained: the caller is itself a role session (role chaining).
        root: the caller is an account's root user.
        idp_session_end: when the identity provider's session ends, if it said.
    """

    operation: Operation
    requested: int | None
    role_max: int = 3600
    chained: bool = False
    root: bool = False
    idp_session_end: datetime | None = None


def _seconds(request: DurationRequest) -> int:
    role_call = request.operation in _ROLE_OPERATIONS
    value = request.requested
    if value is None:
        return 3600 if role_call or request.root else 43_200
    if value < MIN_DURATION:
        raise _constraint(value, "greater than or equal to", MIN_DURATION)
    if role_call:
        if value > _ASSUME_ROLE_API_MAX:
            raise _constraint(value, "less than or equal to", _ASSUME_ROLE_API_MAX)
        if request.chained and value > _CHAINED_MAX:
            raise StsError(
                "The requested DurationSeconds exceeds the 1 hour session limit for roles "
                "assumed by role chaining.",
                code="ValidationError",
            )
        if value > request.role_max:
            raise StsError(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
                code="ValidationError",
            )
        return value
    if value > MAX_DURATION:
        raise _constraint(value, "less than or equal to", MAX_DURATION)
    if request.root and value > _ROOT_MAX:
        raise StsError(
            "The requested DurationSeconds exceeds the 1 hour session limit for the root user.",
            code="ValidationError",
        )
    return value


def session_expiry(request: DurationRequest, now: datetime) -> datetime:
    """When a session requested at ``now`` expires, or ``StsError(ValidationError)``.

    A default duration longer than the role allows is shortened to the role's maximum only when
    the caller did not ask for one (as STS does: the default is 1 h, every role allows 1 h);
    a chained default is 1 h. An explicit request past the identity provider's session is
    refused rather than cut.
    """
    seconds = _seconds(request)
    expiry = now + timedelta(seconds=seconds)
    end = request.idp_session_end
    if end is not None and expiry > end:
        if request.requested is not None or end - now < timedelta(seconds=MIN_DURATION):
            raise StsError(
                "The requested DurationSeconds exceeds the identity provider's session; sign in "
                "again or ask for a shorter session.",
                code="ValidationError",
            )
        expiry = end
    return expiry
