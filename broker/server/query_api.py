"""One STS request from bytes to answer: parse, authenticate (SigV4), act, audit, render.

The audit event is appended (and fsynced) before the answer is returned; when it cannot be,
the answer is replaced by an ``InternalFailure`` error and no credentials leave (fail closed).
Used by ``broker serve``; pure of HTTP frameworks so it is tested directly.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from broker.audit import cloudtrail_event
from broker.audit.sink import AuditSink
from broker.errors import (
    AuditError,
    AuditUnavailableError,
    BrokerError,
    StateStoreUnavailableError,
    StsError,
    one_printable_line,
)
from broker.server.authorize import authorize, parse_query
from broker.server.limits import audited_parameters, parse_parameters, refuse_unsupported
from broker.server.sigv4 import SignedRequest, parse_authorization, verify_sigv4
from broker.storage.clock_skew import ClockGuard
from broker.sts.access_keys import AccessKeyStore
from broker.sts.assume_role import assume_role
from broker.sts.authorization import require_caller
from broker.sts.callers import Authenticator, Caller
from broker.sts.context import IdTokenVerifier, StsContext, no_directory
from broker.sts.mfa import MfaDevices
from broker.sts.operations import (
    ROLE_ACTIONS,
    get_caller_identity,
    get_federation_token,
    get_session_token,
)
from broker.sts.principals import PrincipalSource
from broker.sts.query_form import parse_request
from broker.sts.query_results import result_elements
from broker.sts.requests import (
    AssumeRoleWithSamlRequest,
    AssumeRoleWithWebIdentityRequest,
    GetCallerIdentityRequest,
    GetFederationTokenRequest,
    GetSessionTokenRequest,
    StsRequest,
)
from broker.sts.results import Outcome, StsResult
from broker.sts.revocation import RevocationSource
from broker.sts.saml_assertion import assume_role_with_saml
from broker.sts.session_policies import SessionPolicySource
from broker.sts.signing_keys import KeyRing, KeyRingSource
from broker.sts.state import StsState
from broker.sts.web_identity import WebIdentityVerifier, assume_role_with_web_identity
from broker.sts.wire import error_xml, result_xml, status_for
from providers.base import ReplayCache
from providers.registry import local_keys

__all__ = ["StsAnswer", "StsDecision", "StsService"]

VERSION = "2011-06-15"
_UNSIGNED = ("AssumeRoleWithWebIdentity", "AssumeRoleWithSAML")
_ACTIONS = ("GetCallerIdentity", "GetSessionToken", "GetFederationToken", *ROLE_ACTIONS)
_EVENT_NAMES = frozenset((*_ACTIONS, "Authorize"))  # anything else is logged as "Unknown"
_MAX_KEY_ID = 128  # AWS's longest access key id: an unauthenticated caller's is cut to it


@dataclass(frozen=True)
class StsDecision:
    """A decided request whose answer waits for its audit event to be written.

    ``body`` may hold credentials: it must not leave before ``event`` is durable.
    """

    event: dict[str, Any]
    code: str
    body: str = field(repr=False)
    request_id: str


@dataclass(frozen=True)
class StsAnswer:
    """An HTTP answer: status, XML body, and the request id it carries."""

    status: int
    body: str
    request_id: str


_UNAVAILABLE = "The service's state store is unavailable; retry the request shortly."

REQUEST_DEADLINE_SECONDS = 5.0
"""The longest a Query API request may take from arrival to decision (``decide``)."""


def _refuse_if_past(deadline: float | None) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise StsError(
            "The request could not be served in time; retry it.", code="ServiceUnavailable"
        )


def _as_sts_error(exc: BrokerError) -> StsError:
    """STS errors pass through; any other broker error (a bad state file, a directory
    failure) is refused as ``InternalFailure`` and logged for the operator, fail closed."""
    if isinstance(exc, StsError):
        return exc
    import logging

    logging.getLogger("broker.server").error("request refused: %s", exc)
    if isinstance(exc, StateStoreUnavailableError | AuditUnavailableError):
        return StsError(_UNAVAILABLE, code="ServiceUnavailable")
    return StsError(
        "The request could not be processed; the broker's operator should check its log.",
        code="InternalFailure",
    )


_NOT_RECORDED = (
    "The request was refused because the service cannot record it right now; try again later "
    "or tell the service's operator."
)
"""What a caller is told when its call could not be audited: nothing about where or why (the
path and the cause are in the server's log, for the operator)."""


_MAX_MESSAGE = 1024


def _shown(error: BrokerError) -> str:
    """An error's message as a caller and the log see it: one line of printable characters
    (a value it echoes may hold control characters, which XML 1.0 cannot even carry), bounded."""
    return one_printable_line(str(error), _MAX_MESSAGE)


def _log_audit_failure(request_id: str, error: AuditError) -> None:
    import logging

    logging.getLogger("broker.server").error("request %s refused: %s", request_id, error)


class StsService:
    """Everything a replica needs: keys, access-key records, revocations, the audit log."""

    def __init__(
        self,
        ring: KeyRing | KeyRingSource,
        *,
        keys: AccessKeyStore,
        revocations: RevocationSource,
        audit: AuditSink,
        saml_replay_cache: ReplayCache,
        session_policies: SessionPolicySource,
        mfa: MfaDevices,
        regions: Collection[str] | None = None,
        data: Path | None = None,
        principals: PrincipalSource | None = None,
        web_identity: WebIdentityVerifier | None = None,
        clock_guard: ClockGuard | None = None,
    ) -> None:
        self.clock_guard = clock_guard
        self._session_policies = session_policies
        self.context = StsContext(
            ring,
            principals=principals,
            session_policies=session_policies,
            mfa=mfa,
            saml_replay_cache=saml_replay_cache,
            web_identity=web_identity or WebIdentityVerifier(local_keys=local_keys(data)),
        )
        self.keys = keys
        self.revocations = revocations
        self.audit = audit
        self.auth = Authenticator(lambda: self.ring, self.keys, self.revocations)
        self.regions = regions
        self.counts: Counter[tuple[str, str]] = Counter()

    @classmethod
    def over(
        cls,
        state: StsState,
        *,
        regions: Collection[str] | None = None,
        data: Path | None = None,
        principals: PrincipalSource | None = None,
        web_identity: WebIdentityVerifier | None = None,
        clock_guard: ClockGuard | None = None,
    ) -> StsService:
        """The service over ``state``'s stores (``data``: the data directory, for the
        embedded development issuer's keys)."""
        shared = state.shared
        return cls(
            state.ring_source,
            keys=state.access_keys(),
            revocations=shared.revocations,
            audit=shared.audit,
            saml_replay_cache=shared.replay,
            session_policies=shared.session_policies,
            mfa=state.mfa_devices(),
            regions=regions,
            data=data,
            principals=principals,
            web_identity=web_identity,
            clock_guard=clock_guard,
        )

    @property
    def ring(self) -> KeyRing:
        """The current key ring (re-read after `broker keys rotate` when given a file)."""
        return self.context.ring

    @property
    def principals(self) -> PrincipalSource | None:
        return self.context.principals

    @property
    def session_policies(self) -> SessionPolicySource:
        return self._session_policies

    @property
    def mfa(self) -> MfaDevices | None:
        return self.context.mfa

    @property
    def saml_replay_cache(self) -> ReplayCache | None:
        return self.context.saml_replay_cache

    @property
    def web_identity(self) -> IdTokenVerifier | None:
        return self.context.web_identity

    def handle(
        self, request: SignedRequest, *, source_ip: str | None, user_agent: str | None
    ) -> StsAnswer:
        """Answer one Query API request (POST form body, or GET query string), audited first."""
        decision = self.decide(request, source_ip=source_ip, user_agent=user_agent)
        try:
            self.audit.append(decision.event)
        except AuditError as exc:
            return self.finish(decision, exc)
        return self.finish(decision)

    def decide(
        self,
        request: SignedRequest,
        *,
        source_ip: str | None,
        user_agent: str | None,
        deadline: float | None = None,
    ) -> StsDecision:
        """Everything ``handle`` does but the audit write: the answer, held back, and its event.

        The caller must write ``decision.event`` to ``self.audit`` and then call ``finish``
        (with the ``AuditError`` if the write failed); only ``finish``'s answer may leave.

        ``deadline`` (``time.monotonic()`` seconds): a request still queued then is refused
        before any work, and one whose operation finished after it is refused instead of
        answered, so no credentials are minted for a caller that has likely given up.
        """
        request_id = str(uuid.uuid4())
        params: dict[str, str] = {}
        action = ""
        caller: Caller | None = None
        try:
            params = parse_parameters(request.query, request.body)
            action = params.get("Action", "")
            self._check_action(params, action)
            refuse_unsupported(params)
            _refuse_if_past(deadline)
            self._refuse_if_clock_skewed()
            if action in _UNSIGNED:
                outcome = self._dispatch(None, parse_request(action, params), source_ip)
            else:
                verified = verify_sigv4(request, self.auth.secret_for, regions=self.regions)
                caller = verified.principal
                self.auth.check_not_revoked(caller)
                # the kind of credentials is refused before the parameters are read
                require_caller(action, caller)
                outcome = self._dispatch(caller, parse_request(action, params), source_ip)
            _refuse_if_past(deadline)
        except BrokerError as raised:
            exc = _as_sts_error(raised)
            code = exc.code or "InternalFailure"
            message = _shown(exc)
            event = self._event(
                action, caller, request, params, request_id, None, code, message, source_ip
            )
            return StsDecision(event, code, error_xml(code, message, request_id), request_id)
        event = self._event(
            action,
            caller,
            request,
            params,
            request_id,
            outcome.response_elements,
            source_ip=source_ip,
        )
        if outcome.identity is not None:
            event["userIdentity"] = dict(outcome.identity)
        body = result_xml(action, result_elements(outcome.result), request_id)
        return StsDecision(event, "ok", body, request_id)

    def refuse(
        self, request: SignedRequest, error: StsError, *, source_ip: str | None
    ) -> StsDecision:
        """A request refused before it was read (too large): its answer and a bounded event
        that records nothing the request carried but its caller's claimed key id."""
        request_id = str(uuid.uuid4())
        code = error.code or "InternalFailure"
        event = self._event("", None, request, {}, request_id, None, code, str(error), source_ip)
        return StsDecision(event, code, error_xml(code, str(error), request_id), request_id)

    def finish(self, decision: StsDecision, audit_error: AuditError | None = None) -> StsAnswer:
        """The answer that may leave once ``decision.event`` was written (or failed to be)."""
        name = decision.event["eventName"]
        if audit_error is not None:
            # The reason (a path, a database host) is for the operator's log, not the caller.
            _log_audit_failure(decision.request_id, audit_error)
            self.counts[(name, "AuditFailure")] += 1
            if isinstance(audit_error, AuditUnavailableError):
                code, status, message = "ServiceUnavailable", 503, _UNAVAILABLE
            else:
                code, status, message = "InternalFailure", 500, _NOT_RECORDED
            return StsAnswer(
                status, error_xml(code, message, decision.request_id), decision.request_id
            )
        self.counts[(name, decision.code)] += 1
        status = 200 if decision.code == "ok" else status_for(decision.code)
        return StsAnswer(status, decision.body, decision.request_id)

    def authorize(self, request: SignedRequest, *, source_ip: str | None) -> tuple[int, Any]:
        """``POST /authorize``: verify the caller, decide, audit, answer JSON."""
        request_id = str(uuid.uuid4())
        caller: Caller | None = None
        try:
            if self.principals is None:
                raise no_directory("POST /authorize")
            self._refuse_if_clock_skewed()
            verified = verify_sigv4(request, self.auth.secret_for, regions=self.regions)
            caller = verified.principal
            self.auth.check_not_revoked(caller)
            query = parse_query(request.body)
            answer: dict[str, Any] = authorize(
                caller, query, self.principals, self.session_policies, source_ip=source_ip
            )
            status, code = 200, "ok"
            audited = {
                "action": query.action,
                "resource": query.resource,
                "decision": answer["decision"],
            }
        except BrokerError as raised:
            exc = _as_sts_error(raised)
            code = exc.code or "InternalFailure"
            status = status_for(code)
            answer = {"error": code, "message": _shown(exc)}
            audited = None
        event = self._event(
            "Authorize",
            caller,
            request,
            {},
            request_id,
            audited,
            None if code == "ok" else code,
            None if code == "ok" else answer["message"],
            source_ip,
        )
        event["eventSource"] = "broker.authorize"
        try:
            self.audit.append(event)
        except AuditError as exc:
            _log_audit_failure(request_id, exc)
            if isinstance(exc, AuditUnavailableError):
                return 503, {"error": "ServiceUnavailable", "message": _UNAVAILABLE}
            return 500, {"error": "InternalFailure", "message": _NOT_RECORDED}
        self.counts[("Authorize", code)] += 1
        return status, {**answer, "requestId": request_id}

    def health(self) -> tuple[int, dict[str, str]]:
        """``GET /health``: 200 and the active key id, or 503 naming what is down (the state
        store, this replica's clock). Blocking: the app runs it on a worker thread."""
        problems = self.clock_guard.probe() if self.clock_guard is not None else {}
        if problems:
            return 503, {"status": "unavailable", **problems}
        try:
            kid = self.ring.active.kid
        except BrokerError as exc:
            import logging

            logging.getLogger("broker.server").error("health: signing keys: %s", exc)
            return 503, {"status": "unavailable", "signingKeys": "unavailable"}
        return 200, {"status": "ok", "signingKey": kid}

    def _refuse_if_clock_skewed(self) -> None:
        """A replica whose clock is off from the database's mints sessions that escape
        revocation and misjudges SigV4 windows: it refuses, retryably, until corrected."""
        skew = self.clock_guard.skew() if self.clock_guard is not None else None
        if skew is not None:
            raise StsError(
                "This replica's clock is not in step with the service's; retry the request.",
                code="ServiceUnavailable",
            )

    @staticmethod
    def _check_action(params: Mapping[str, str], action: str) -> None:
        if action not in _ACTIONS:
            raise StsError(
                f"Could not find operation {one_printable_line(action) or '(none)'} for version "
                f"{VERSION}",
                code="InvalidAction",
            )
        if params.get("Version") != VERSION:
            raise StsError(
                f"Could not find operation {action} for version "
                f"{one_printable_line(params.get('Version', '(none)'))}",
                code="InvalidAction",
            )

    def _dispatch(
        self, caller: Caller | None, request: StsRequest, source_ip: str | None
    ) -> Outcome[StsResult]:
        """Run the operation ``request`` asks for; the unsigned two take no ``caller``."""
        deps = self.context
        if isinstance(request, AssumeRoleWithWebIdentityRequest):
            return assume_role_with_web_identity(deps, request, source_ip=source_ip)
        if isinstance(request, AssumeRoleWithSamlRequest):
            return assume_role_with_saml(deps, request, source_ip=source_ip)
        if caller is None:
            raise StsError(f"{request.action} must be signed.", code="MissingAuthenticationToken")
        if isinstance(request, GetCallerIdentityRequest):
            return get_caller_identity(deps, caller, request)
        if isinstance(request, GetSessionTokenRequest):
            return get_session_token(deps, caller, request)
        if isinstance(request, GetFederationTokenRequest):
            return get_federation_token(deps, caller, request, source_ip=source_ip)
        return assume_role(deps, caller, request, source_ip=source_ip)

    def _event(
        self,
        action: str,
        caller: Caller | None,
        request: SignedRequest,
        params: Mapping[str, str],
        request_id: str,
        response: Mapping[str, Any] | None,
        code: str | None = None,
        message: str | None = None,
        source_ip: str | None = None,
    ) -> dict[str, Any]:
        if caller is not None:
            identity = caller.user_identity()
        else:
            try:
                key_id: str | None = parse_authorization(request).access_key_id[:_MAX_KEY_ID]
            except StsError:
                key_id = None
            identity = {"type": "Unknown", "accessKeyId": key_id}
        # Who was authenticated decides how much of the request is recorded: an anonymous
        # failure keeps only bounded STS fields (``broker.server.limits``).
        authenticated = caller is not None or response is not None
        return cloudtrail_event(
            action if action in _EVENT_NAMES else "Unknown",
            user_identity=identity,
            request_id=request_id,
            source_ip=source_ip,
            user_agent=request.headers.get("user-agent"),
            request_parameters=audited_parameters(params, authenticated=authenticated) or None,
            response_elements=response,
            error_code=code,
            error_message=message,
            recipient_account=caller.account if caller else None,
        )
