"""The ``aws`` minter: real AWS credentials from an upstream STS, obtained through botocore.

Per account (``[minters.aws.accounts."<id>"]``) the broker either calls ``AssumeRole`` into the
assignment's role — RoleSessionName and SourceIdentity from the person, session tags from their
claims — or ``GetFederationToken`` with the permission set as the session policy. Its own
upstream credentials come from botocore's standard chain or a named profile of it.

The broker's rules run *before* AWS is asked, so a refusal never depends on AWS's leniency:
the role must be one the account lists, the person must hold the assignment in the directory
(the local minter's ``directory_assignments`` check), MFA where the account requires it, and the
duration within STS's rules (``broker.sts.durations``: 900 s up to the role's
MaxSessionDuration for AssumeRole, 900–129,600 s for GetFederationToken, never past the
identity provider's session). Requests are refused, never clamped. Every mint and refusal is
written to the audit log before the answer leaves; if that fails, nothing is handed out.
AWS's own errors come back as one-line ``StsError`` carrying AWS's code.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from broker.config import BrokerConfig
from broker.errors import ConfigError, StsError
from broker.minters.aws_names import derived_name, name_for, session_tags
from broker.minters.aws_settings import AwsAccount, AwsSettings, load_aws_settings
from broker.minters.base import Credentials, MintRequest
from broker.minters.upstream_audit import AuditSink, UpstreamCall, record_upstream
from broker.sts.durations import DurationRequest, session_expiry
from providers.base import SignInResult

if TYPE_CHECKING:  # the local minter pulls in the whole STS; load it only to build
    from broker.minters.local import AssignmentCheck
    from broker.sts.state_handle import StateHandle

__all__ = ["AuditSink", "AwsMinter", "build_minter", "role_arn"]


ClientFactory = Callable[[AwsAccount], Any]


def role_arn(account_id: str, account: AwsAccount, role_name: str) -> str:
    """The ARN of ``role_name`` in ``account_id``."""
    return f"arn:{account.partition}:iam::{account_id}:role{account.role_path}{role_name}"


def botocore_client(account: AwsAccount) -> Any:
    """An STS client on the broker's own credentials (standard chain or named profile)."""
    import botocore.config
    import botocore.exceptions
    import botocore.session

    try:
        session = botocore.session.Session(profile=account.profile)
        return session.create_client(
            "sts",
            region_name=account.region,
            endpoint_url=account.endpoint_url,
            config=botocore.config.Config(
                connect_timeout=5, read_timeout=15, retries={"mode": "standard", "max_attempts": 3}
            ),
        )
    except botocore.exceptions.ProfileNotFound:
        raise ConfigError(
            f"AWS profile {account.profile!r} (the broker's upstream credentials) is not in the "
            "AWS config or credentials file; create it or change `profile`"
        ) from None


def _one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class AwsMinter:
    """Mints through an upstream AWS STS. Thread-safe; one botocore client per account."""

    name = "aws"

    def __init__(
        self,
        settings: AwsSettings,
        audit: AuditSink,
        *,
        client_factory: ClientFactory = botocore_client,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        assignments: AssignmentCheck | None = None,
    ) -> None:
        self.settings = settings
        self._audit = audit
        self._assignments = assignments
        self._client_factory = client_factory
        self._clock = clock
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    # -- the broker's rules, before AWS is asked ------------------------------------------

    def _account(self, account_id: str) -> AwsAccount:
        account = self.settings.accounts.get(account_id)
        if account is None:
            raise StsError(
                f"account {account_id} is not served by the aws minter; add "
                f'[minters.aws.accounts."{account_id}"] to broker.toml or use the local minter',
                code="AccessDenied",
            )
        return account

    def _check(self, identity: SignInResult, request: MintRequest, account: AwsAccount) -> None:
        claims = identity.claims
        if request.role_name not in account.roles:
            raise StsError(
                f"role {request.role_name} in account {request.account_id} is not one the broker "
                "may mint for (not in its `roles`)",
                code="AccessDenied",
            )
        if account.require_mfa and not claims.mfa:
            raise StsError(
                f"account {request.account_id} requires MFA; sign in again with MFA",
                code="AccessDenied",
            )
        if self._assignments is not None and (
            self._assignments(claims, request.account_id, request.role_name) is None
        ):
            raise StsError(
                f"{claims.email or claims.subject} is not assigned {request.role_name} in "
                f"account {request.account_id}; ask an administrator for the assignment",
                code="AccessDenied",
            )
        now = self._clock()
        session_expiry(
            DurationRequest(
                operation="AssumeRole" if account.method == "assume-role" else "GetFederationToken",
                requested=request.duration_seconds,
                role_max=account.max_session_duration,
                idp_session_end=claims.session_not_on_or_after,
            ),
            now,
        )
        if identity.expires_at <= now:
            raise StsError("the sign-in has expired; sign in again", code="ExpiredToken")

    # -- the call ----------------------------------------------------------------------------

    def _client(self, account_id: str, account: AwsAccount) -> Any:
        with self._lock:
            client = self._clients.get(account_id)
            if client is None:
                client = self._client_factory(account)
                self._clients[account_id] = client
            return client

    def _parameters(
        self, identity: SignInResult, request: MintRequest, account: AwsAccount
    ) -> tuple[str, dict[str, Any]]:
        claims = identity.claims
        if account.method == "federation-token":
            if not request.session_policy:
                raise StsError(
                    "GetFederationToken needs the permission set as the session policy; the "
                    "assignment has none",
                    code="ValidationError",
                )
            params: dict[str, Any] = {
                "Name": name_for(claims, request.session_name, 32, "Name"),
                "Policy": request.session_policy,
                "DurationSeconds": request.duration_seconds,
            }
            tags = session_tags(claims, account.session_tags)
            if tags:
                params["Tags"] = tags
            return "GetFederationToken", params
        params = {
            "RoleArn": role_arn(request.account_id, account, request.role_name),
            "RoleSessionName": name_for(claims, request.session_name, 64, "RoleSessionName"),
            "DurationSeconds": request.duration_seconds,
        }
        if account.source_identity:
            params["SourceIdentity"] = derived_name(claims, 64)
        tags = session_tags(claims, account.session_tags)
        if tags:
            params["Tags"] = tags
        if request.session_policy:
            params["Policy"] = request.session_policy
        return "AssumeRole", params

    def _call(self, client: Any, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        import botocore.exceptions

        method = client.assume_role if operation == "AssumeRole" else client.get_federation_token
        try:
            answer: dict[str, Any] = method(**params)
        except botocore.exceptions.ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code") or "UnknownError")
            message = _one_line(str(error.get("Message") or ""))
            raise StsError(
                f"upstream AWS STS refused {operation}: {code}: {message}", code=code
            ) from None
        except botocore.exceptions.NoCredentialsError:
            raise ConfigError(
                "the broker has no upstream AWS credentials: configure the standard AWS chain "
                "(environment, ~/.aws, instance role) or set `profile` for this account"
            ) from None
        except botocore.exceptions.BotoCoreError as exc:
            from broker.proxy_hint import proxy_hint

            through = proxy_hint(str(getattr(client.meta, "endpoint_url", "") or ""))
            raise StsError(
                f"upstream AWS STS unreachable for {operation}: {_one_line(str(exc))}"
                f"{through or '; retry later'}",
                code="ServiceUnavailable",
            ) from None
        return answer

    # -- the seam ----------------------------------------------------------------------------

    def mint(self, identity: SignInResult, request: MintRequest) -> Credentials:
        """Mint credentials upstream (see ``broker.minters.base.Minter.mint``).

        Raises:
            StsError: refused by the broker's rules or by AWS (AWS's code in ``code``).
            ConfigError: the broker's own upstream credentials are missing.
            AuditError: the audit log cannot be written; nothing is handed out.
        """
        operation = "AssumeRole"
        params: dict[str, Any] = {}
        try:
            account = self._account(request.account_id)
            if account.method == "federation-token":
                operation = "GetFederationToken"
            self._check(identity, request, account)
            operation, params = self._parameters(identity, request, account)
            answer = self._call(self._client(request.account_id, account), operation, params)
        except StsError as exc:
            self._record(identity, request, operation, params, error=exc)
            raise
        raw = answer["Credentials"]
        credentials = Credentials(
            access_key_id=raw["AccessKeyId"],
            secret_access_key=raw["SecretAccessKey"],
            session_token=raw["SessionToken"],
            expiration=raw["Expiration"].astimezone(UTC),
        )
        self._record(identity, request, operation, params, credentials=credentials)
        return credentials

    def _record(
        self,
        identity: SignInResult,
        request: MintRequest,
        operation: str,
        params: Mapping[str, Any],
        *,
        credentials: Credentials | None = None,
        error: StsError | None = None,
    ) -> None:
        shown = {key: value for key, value in params.items() if key != "Policy"}
        record_upstream(
            self._audit,
            self._clock(),
            identity.claims,
            request,
            UpstreamCall(operation, "WebIdentityUser", "aws", shown),
            credentials=credentials,
            error=error,
        )


def build_minter(config: BrokerConfig, state: StateHandle) -> AwsMinter:
    """The ``aws`` minter from ``[minters.aws]``, auditing to the one state's audit chain and,
    when the configuration has a directory, minting only the person's own assignments."""
    from broker.minters.local import directory_assignments
    from broker.minters.upstream_audit import open_audit_chain

    settings = load_aws_settings(config)
    assignments = None
    if (config.directory / "directory").is_dir():
        from broker.directory import load_directory

        directory = load_directory(config.directory, state.state().shared.database)
        assignments = directory_assignments(directory)
    return AwsMinter(settings, open_audit_chain(state), assignments=assignments)
