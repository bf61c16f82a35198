"""Chained profiles: AssumeRole with another profile's session, as the AWS CLI's
``source_profile`` does, through the standard STS API (botocore) — AWS's own STS, or the one
``endpoint_url`` names (``broker serve``).

Why not a minter of the broker's own: the target role is assumed *by the source session*, so
its trust policy, the caller's permissions, session-policy and MFA conditions are all judged by
that STS exactly as for any other caller. AWS caps a chained session at one hour; a longer one
is refused here with one line before anything is sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC
from typing import Any

from broker.client.profiles import CHAINED_MAX_DURATION, Profile
from broker.errors import StsError, UsageError
from broker.minters.base import Credentials, MintRequest
from providers.base import SignInResult

__all__ = ["ChainedMinter"]

_SESSION_NAME_CHARS = re.compile(r"[^\w+=,.@-]")


def _session_name(identity: SignInResult) -> str:
    """RoleSessionName from the signed-in person (AWS's charset, 2-64 characters)."""
    name = _SESSION_NAME_CHARS.sub("-", identity.claims.email or identity.claims.subject)
    return (name or "broker")[:64].ljust(2, "-")


class ChainedMinter:
    """Mints one chained profile's credentials.

    Args:
        profile: the chained profile (``source_profile``, ``role_arn`` set).
        source: the source profile's credentials (through the chain: cache, refresh, mint).
        read_code: asks the person for a TOTP code (only for ``mfa_serial`` profiles).
        client_factory: an STS client from credentials (tests may pass their own).
    """

    name = "chained"

    def __init__(
        self,
        profile: Profile,
        source: Callable[[], Credentials],
        read_code: Callable[[Profile], str],
        client_factory: Callable[[Profile, Credentials], Any] | None = None,
    ) -> None:
        self.profile = profile
        self.source = source
        self.read_code = read_code
        self.client_factory = client_factory or _sts_client

    def mint(self, identity: SignInResult, request: MintRequest) -> Credentials:
        """AssumeRole of ``role_arn`` with the source profile's session.

        Raises:
            UsageError: a duration past the one-hour chaining cap.
            ReauthenticationRequired: an MFA code is needed and there is no terminal.
            StsError: the STS refused, or cannot be reached.
        """
        profile = self.profile
        if request.duration_seconds > CHAINED_MAX_DURATION:
            raise UsageError(
                f"profile {profile.name} is chained (source_profile): AWS caps such sessions "
                f"at 1 hour (3600 s); {request.duration_seconds} s was asked"
            )
        source = self.source()
        params: dict[str, Any] = {
            "RoleArn": profile.role_arn,
            "RoleSessionName": _session_name(identity),
            "DurationSeconds": request.duration_seconds,
        }
        if profile.mfa_serial is not None:
            params["SerialNumber"] = profile.mfa_serial
            params["TokenCode"] = self.read_code(profile)
        client = self.client_factory(profile, source)
        answer = _assume_role(client, profile, params)["Credentials"]
        return Credentials(
            access_key_id=answer["AccessKeyId"],
            secret_access_key=answer["SecretAccessKey"],
            session_token=answer["SessionToken"],
            expiration=answer["Expiration"].astimezone(UTC),
        )


def _sts_client(profile: Profile, source: Credentials) -> Any:
    import botocore.config
    import botocore.session

    return botocore.session.Session().create_client(
        "sts",
        region_name=profile.region or "us-east-1",
        endpoint_url=profile.endpoint_url,
        aws_access_key_id=source.access_key_id,
        aws_secret_access_key=source.secret_access_key,
        aws_session_token=source.session_token,
        config=botocore.config.Config(retries={"max_attempts": 2}, connect_timeout=10),
    )


def _assume_role(client: Any, profile: Profile, params: dict[str, Any]) -> Any:
    import botocore.exceptions

    try:
        return client.assume_role(**params)
    except botocore.exceptions.ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "UnknownError")
        message = " ".join(str(error.get("Message") or "").split())[:300]
        raise StsError(
            f"profile {profile.name}: STS refused AssumeRole of {profile.role_arn}: "
            f"{code}: {message}",
            code=code,
        ) from None
    except botocore.exceptions.BotoCoreError as exc:
        from broker.proxy_hint import proxy_hint

        endpoint = str(getattr(client.meta, "endpoint_url", "") or "")
        reason = " ".join(str(exc).split())[:300]
        raise StsError(
            f"profile {profile.name}: cannot reach the STS at {endpoint}: {reason}"
            f"{proxy_hint(endpoint) or '; retry later'}",
            code="ServiceUnavailable",
        ) from None
