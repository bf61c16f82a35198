"""What the two federation minters share: sending the person's own sign-in to AWS STS.

``aws-saml`` (AssumeRoleWithSAML) and ``aws-web-identity`` (AssumeRoleWithWebIdentity) need no
AWS credentials of the broker's: the stored SAML response or ID token *is* the proof, and the
calls are unsigned (botocore with ``UNSIGNED``). The provider must opt in with
``aws_federation = true`` in its ``[providers.NAME]`` table, because handing a sign-in to AWS is
a decision about that IdP, not about a profile.

The broker's own rules run before AWS is asked (fail closed, never clamp): the provider opted
in, the sign-in is of the right kind and has not expired, the role is the profile's, the
duration is within STS's rules (``broker.sts.durations``) and the IdP's session. AWS's refusals
come back as one line naming AWS's code and what to do (``upstream_refusal``). Throttling is
retried with back-off by botocore's ``standard`` retry mode. Every mint and refusal is written
to the audit log (as the ``aws`` minter does) before the answer leaves; a token, an assertion
or a secret key never is.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from broker.config import BrokerConfig
from broker.errors import SignInAgain, StsError
from broker.login_advice import plain_login_advice
from broker.minters.base import Credentials, MintRequest
from broker.minters.upstream_audit import AuditSink, UpstreamCall, record_upstream
from broker.sts.durations import DurationRequest, Operation, session_expiry
from providers.base import SignInResult

__all__ = [
    "DEFAULT_REGION",
    "FEDERATED_MINTERS",
    "FederatedTarget",
    "FederationCall",
    "FederationMinter",
    "FederationSettings",
    "federated_providers",
    "load_federation_settings",
    "partition_of",
    "unsigned_client",
    "upstream_refusal",
]

#: The minters that hand the person's own sign-in to AWS (profile ``minter`` values).
FEDERATED_MINTERS = ("aws-saml", "aws-web-identity")
DEFAULT_REGION = "us-east-1"
#: AssumeRoleWithSAML / AssumeRoleWithWebIdentity accept at most 12 hours (the role may allow
#: less: AWS then refuses, and we pass its refusal on).
API_MAX_DURATION = 43_200

ROLE_ARN = re.compile(
    r"^arn:(aws|aws-cn|aws-us-gov):iam::([0-9]{12}):role/((?:[\w+=,.@-]+/)*)([\w+=,.@-]{1,64})$"
)
SAML_PROVIDER_ARN = re.compile(
    r"^arn:(aws|aws-cn|aws-us-gov):iam::([0-9]{12}):saml-provider/[\w.-]{1,128}$"
)


@dataclass(frozen=True)
class FederatedTarget:
    """The role a profile names, and the STS to ask.

    Args:
        role_arn: the role to assume (its account and name must match the mint request).
        principal_arn: the IAM SAML provider (``aws-saml`` only); ``None`` picks it from the
            assertion when exactly one of its Role pairs names ``role_arn``.
        region: the STS region (regional endpoint); ``None`` is ``us-east-1``.
        endpoint_url: another STS endpoint (a VPC endpoint; tests point it at moto).
    """

    role_arn: str | None = None
    principal_arn: str | None = None
    region: str | None = None
    endpoint_url: str | None = None


@dataclass(frozen=True)
class FederationCall:
    """One upstream call: the operation, its parameters (the proof among them) and which
    parameter carries the proof (left out of the audit event)."""

    operation: Operation
    params: dict[str, Any]
    proof_parameter: str


def partition_of(region: str) -> str:
    """The AWS partition a region belongs to (``aws``, ``aws-cn``, ``aws-us-gov``)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


@dataclass(frozen=True)
class FederationSettings:
    """``[minters.aws-saml]`` / ``[minters.aws-web-identity]``: the STS for profiles (and roles
    picked from the portal) that do not name one.

    Args:
        region: the STS region (regional endpoint); its partition follows (``cn-*``: aws-cn).
        endpoint_url: another STS endpoint (a VPC endpoint; tests point it at moto).
    """

    region: str = DEFAULT_REGION
    endpoint_url: str | None = None


_REGION = re.compile(r"^[a-z]{2}(-[a-z0-9]+){1,3}$")
_ENDPOINT = re.compile(r"^https?://[^\s/?#]+/?$")


def load_federation_settings(config: BrokerConfig, minter: str) -> FederatedTarget:
    """The minter's default STS from ``[minters.<minter>]``.

    Raises:
        ConfigIssues: unknown keys, wrong types, a bad region or endpoint.
    """
    from broker.config import ConfigIssue, ConfigIssues, from_table

    file = str(config.file)
    prefix = f"minters.{minter}"
    table: Mapping[str, Any] = config.section("minters").get(minter, {})
    settings, issues = from_table(FederationSettings, table, file=file, prefix=prefix)
    if settings is not None:
        if not _REGION.match(settings.region):
            issues.append(ConfigIssue(file, f"{prefix}.region", "not a region (like eu-west-1)"))
        if settings.endpoint_url is not None and not _ENDPOINT.match(settings.endpoint_url):
            issues.append(
                ConfigIssue(file, f"{prefix}.endpoint_url", "must be an http(s) URL with no path")
            )
    if issues or settings is None:
        raise ConfigIssues(issues)
    return FederatedTarget(region=settings.region, endpoint_url=settings.endpoint_url)


def federated_providers(config: BrokerConfig) -> frozenset[str]:
    """The providers whose ``[providers.NAME]`` table says ``aws_federation = true``.

    The providers' own settings loaders check the key's type and refuse it where the type
    cannot federate; here only an explicit ``true`` counts (fail closed)."""
    from broker.config.providers import provider_tables

    return frozenset(
        name
        for name, table in provider_tables(config).items()
        if table.get("aws_federation") is True
    )


def unsigned_client(region: str, endpoint_url: str | None) -> Any:
    """An STS client that signs nothing: the SAML response or ID token is the credential.

    Regional endpoints (``sts.REGION.amazonaws.com``, ``.com.cn`` in China) as AWS recommends;
    throttling and transient failures retried with back-off (botocore's ``standard`` mode).
    """
    import botocore
    import botocore.config
    import botocore.session

    # No profile matters to an unsigned call: AWS_PROFILE is not read, so one naming a profile
    # that is not in the AWS config (as under another tool) cannot stop it.
    session = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
    session.set_config_variable("sts_regional_endpoints", "regional")
    return session.create_client(
        "sts",
        region_name=region,
        endpoint_url=endpoint_url,
        config=botocore.config.Config(
            signature_version=botocore.UNSIGNED,
            connect_timeout=5,
            read_timeout=15,
            retries={"mode": "standard", "max_attempts": 5},
        ),
    )


def _one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


_ADVICE: dict[str, str] = {
    "ExpiredToken": "the sign-in has expired: {login}",
    "AccessDenied": (
        "check the role's trust policy admits this identity provider and sign-in, and the "
        "profile's role_arn"
    ),
    "InvalidIdentityToken": (
        "AWS does not accept this IdP's tokens: check the IAM identity provider (issuer URL, "
        "audience/client id), then sign in again: {login}"
    ),
    "IDPRejectedClaim": (
        "AWS rejected the sign-in's claims: check the IAM identity provider (its metadata or "
        "audience) and the role's trust policy conditions"
    ),
    "IDPCommunicationError": "AWS could not reach the IdP to check the token; retry later",
    "RegionDisabled": (
        "STS is not activated in this region: activate it in the account's IAM settings or "
        "set another region in the profile"
    ),
    "Throttling": "AWS STS kept throttling after retries; wait a minute and retry",
    "PackedPolicyTooLarge": "the session policy is too large; shorten it",
    "MalformedPolicyDocument": "the session policy is not valid IAM policy JSON; fix it",
    "ValidationError": "fix the profile's duration or role_arn",
}


def upstream_refusal(
    code: str, message: str, operation: str, provider: str, login: SignInAgain | None = None
) -> StsError:
    """AWS's refusal as one line: what AWS said and what to do about it (``login``: how to
    sign in again to ``provider``, ``broker.login_advice``)."""
    key = code.removesuffix("Exception")
    if key in ("ThrottlingException", "RequestLimitExceeded", "TooManyRequests"):
        key = "Throttling"
    advice = _ADVICE.get(key, "see AWS's message")
    head = f"AWS STS refused {operation}: {code}: {_one_line(message) or 'no message'}; "
    if advice.endswith("{login}"):  # the fix is a new sign-in: each front end words it
        return StsError(
            head + advice.removesuffix("{login}").format(provider=provider),
            code=key,
            sign_in=login or plain_login_advice(provider),
        )
    return StsError(head + advice.format(provider=provider), code=key)


ClientFactory = Callable[[str, str | None], Any]


class FederationMinter:
    """What both federation minters do around their one call; subclasses say how to build it.

    Thread-safe: one botocore client per (region, endpoint), shared by ``aimed_at`` copies.
    """

    name = "aws-federation"
    operation: Operation = "AssumeRoleWithSAML"

    def __init__(
        self,
        audit: AuditSink,
        providers: frozenset[str],
        *,
        target: FederatedTarget | None = None,
        client_factory: ClientFactory = unsigned_client,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        clients: dict[tuple[str, str | None], Any] | None = None,
    ) -> None:
        self._audit = audit
        self._providers = providers
        self.target = target or FederatedTarget()
        self._client_factory = client_factory
        self._clock = clock
        self._clients: dict[tuple[str, str | None], Any] = {} if clients is None else clients
        self._lock = threading.Lock()

    def aimed_at(self, target: FederatedTarget) -> FederationMinter:
        """This minter for one profile's role and STS (sharing clients and audit); the STS a
        profile does not name is this minter's own (``[minters.NAME]``)."""
        return type(self)(
            self._audit,
            self._providers,
            target=FederatedTarget(
                role_arn=target.role_arn,
                principal_arn=target.principal_arn,
                region=target.region or self.target.region,
                endpoint_url=target.endpoint_url or self.target.endpoint_url,
            ),
            client_factory=self._client_factory,
            clock=self._clock,
            clients=self._clients,
        )

    # -- to be supplied ----------------------------------------------------------------------

    def login_advice(self, provider: str) -> SignInAgain:
        """How to sign in again to ``provider`` (``broker.login_advice``)."""
        return plain_login_advice(provider)

    def _build_call(self, identity: SignInResult, request: MintRequest) -> FederationCall:
        raise NotImplementedError

    def _extra_checks(self, identity: SignInResult, request: MintRequest) -> None:
        """Checks of one kind of sign-in (the SAML SessionDuration); none by default."""

    # -- the broker's rules, before AWS is asked ---------------------------------------------

    def _check(self, identity: SignInResult, request: MintRequest) -> None:
        provider = identity.claims.provider
        if provider not in self._providers:
            raise StsError(
                f"provider {provider!r} is not allowed to sign in to AWS directly: set "
                f"aws_federation = true in [providers.{provider}] (see README)",
                code="AccessDenied",
            )
        target = self.target.role_arn
        if target is not None:
            matched = ROLE_ARN.match(target)
            if matched is None or (matched.group(2), matched.group(4)) != (
                request.account_id,
                request.role_name,
            ):
                raise StsError(
                    f"role {request.role_name} in account {request.account_id} is not the "
                    f"profile's role_arn {target}",
                    code="AccessDenied",
                )
        now = self._clock()
        if identity.expires_at <= now:
            raise StsError(
                f"the sign-in to {provider} has expired; ",
                code="ExpiredToken",
                sign_in=self.login_advice(provider),
            )
        session_expiry(
            DurationRequest(
                operation=self.operation,
                requested=request.duration_seconds,
                role_max=API_MAX_DURATION,
                idp_session_end=identity.claims.session_not_on_or_after,
            ),
            now,
        )
        self._extra_checks(identity, request)

    # -- the call ----------------------------------------------------------------------------

    def _client(self) -> Any:
        key = (self.target.region or DEFAULT_REGION, self.target.endpoint_url)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self._client_factory(*key)
                self._clients[key] = client
            return client

    def _send(self, call: FederationCall, provider: str) -> dict[str, Any]:
        import botocore.exceptions
        from botocore.parsers import ResponseParserError  # an answer that is not STS's XML

        method = getattr(self._client(), _SNAKE[call.operation])
        try:
            answer: dict[str, Any] = method(**call.params)
        except botocore.exceptions.ClientError as exc:
            error = exc.response.get("Error", {})
            raise upstream_refusal(
                str(error.get("Code") or "UnknownError"),
                str(error.get("Message") or ""),
                call.operation,
                provider,
                self.login_advice(provider),
            ) from None
        except (botocore.exceptions.BotoCoreError, ResponseParserError) as exc:
            from broker.proxy_hint import proxy_hint

            through = proxy_hint(str(getattr(self._client().meta, "endpoint_url", "") or ""))
            raise StsError(
                f"AWS STS unreachable for {call.operation}: {_one_line(str(exc))}"
                f"{through or '; retry later'}",
                code="ServiceUnavailable",
            ) from None
        return answer

    def mint(self, identity: SignInResult, request: MintRequest) -> Credentials:
        """Mint credentials from AWS STS with the person's own sign-in
        (see ``broker.minters.base.Minter.mint``).

        Raises:
            StsError: refused by the broker's rules or by AWS (AWS's code in ``code``).
            AuditError: the audit log cannot be written; nothing is handed out.
        """
        call: FederationCall | None = None
        try:
            self._check(identity, request)
            call = self._build_call(identity, request)
            answer = self._send(call, identity.claims.provider)
        except StsError as exc:
            self._record(identity, request, call, error=exc)
            raise
        raw = answer["Credentials"]
        credentials = Credentials(
            access_key_id=raw["AccessKeyId"],
            secret_access_key=raw["SecretAccessKey"],
            session_token=raw["SessionToken"],
            expiration=raw["Expiration"].astimezone(UTC),
        )
        assumed = str(answer.get("AssumedRoleUser", {}).get("Arn", ""))
        self._record(identity, request, call, credentials=credentials, assumed=assumed)
        return credentials

    # -- the audit ---------------------------------------------------------------------------

    def _record(
        self,
        identity: SignInResult,
        request: MintRequest,
        call: FederationCall | None,
        *,
        credentials: Credentials | None = None,
        assumed: str = "",
        error: StsError | None = None,
    ) -> None:
        hidden = ("Policy",) if call is None else (call.proof_parameter, "Policy")
        shown = {} if call is None else {k: v for k, v in call.params.items() if k not in hidden}
        user_type = "SAMLUser" if self.operation == "AssumeRoleWithSAML" else "WebIdentityUser"
        record_upstream(
            self._audit,
            self._clock(),
            identity.claims,
            request,
            UpstreamCall(self.operation, user_type, self.name, shown),
            credentials=credentials,
            response={"assumedRoleUser": {"arn": assumed}},
            error=error,
        )


_SNAKE: dict[str, str] = {
    "AssumeRoleWithSAML": "assume_role_with_saml",
    "AssumeRoleWithWebIdentity": "assume_role_with_web_identity",
}
