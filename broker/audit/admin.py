"""Administrators' changes to the shared state, audited before they are made.

Every admin command that writes the state database (revocations, service users' and directory
users' MFA devices, access keys, signing keys, dropped directory snapshots) goes through
``audited_change``: a ``BrokerAdminCall`` event naming the action, what it acts on and who ran
it is appended to the audit chain first, and only then is the change made. An audit that
cannot be written raises ``AuditError`` and nothing changes (fail closed, as for STS calls).

The outcome: the event is the record that the change was made. A change that fails after its
event was written (the keyring or the database refused, or IAM's two-key limit counted in the
insert's own transaction) is followed by a second event with the same ``requestID`` carrying
``errorCode`` (the error's code, such as ``LimitExceeded``, else its kind) and
``errorMessage``, so a reader sees it did not take effect. Requests refused before any change
(an unknown user, a device already enrolled) change nothing and are not audited.

``userIdentity`` names who ran the command: the operating-system account (by the process's
user id, not the environment) and the host, so a change made on one replica's host is told
apart from another's. It is ``BrokerAdmin``, never ``IAMUser``: reports that count a directory
user's activity (credential report, last accessed) do not mistake an operator for one.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from broker.audit.events import cloudtrail_event

if TYPE_CHECKING:
    from broker.audit.sink import AuditSink

__all__ = [
    "ADMIN_EVENT_TYPE",
    "admin_event",
    "admin_identity",
    "audited_change",
    "unchanged_on_failure",
]

ADMIN_EVENT_TYPE = "BrokerAdminCall"
ADMIN_EVENT_SOURCE = "broker.local"

T = TypeVar("T")


def _login_name() -> str:
    """The account this process runs as: its user id's name where the OS has one."""
    import getpass
    import os

    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError, AttributeError):  # no pwd (Windows), or an unnamed uid
        pass
    try:
        return getpass.getuser()
    except OSError:
        return "unknown"


@functools.cache
def admin_identity() -> dict[str, str]:
    """``userIdentity`` of an admin event: the OS account and host that ran the command."""
    import socket

    login, host = _login_name(), socket.gethostname()
    return {"type": "BrokerAdmin", "principalId": f"{login}@{host}", "osUser": login, "host": host}


def _error_code(error: BaseException) -> str:
    """The error's protocol code where it has one (``LimitExceeded``), else its kind."""
    code = getattr(error, "code", None)
    return code if isinstance(code, str) and code else type(error).__name__


def admin_event(
    event_name: str,
    request_parameters: Mapping[str, Any],
    *,
    request_id: str,
    response_elements: Mapping[str, Any] | None = None,
    error: BaseException | None = None,
) -> dict[str, Any]:
    """One ``BrokerAdminCall`` event (secrets removed by ``cloudtrail_event`` as for any)."""
    return cloudtrail_event(
        event_name,
        user_identity=admin_identity(),
        request_id=request_id,
        request_parameters=request_parameters,
        response_elements=response_elements,
        error_code=_error_code(error) if error is not None else None,
        error_message=str(error) if error is not None else None,
        event_source=ADMIN_EVENT_SOURCE,
        event_type=ADMIN_EVENT_TYPE,
    )


def audited_change(
    audit: AuditSink,
    event_name: str,
    request_parameters: Mapping[str, Any],
    change: Callable[[], T],
    *,
    response_elements: Mapping[str, Any] | None = None,
) -> T:
    """Append the event, then run ``change`` and return its result.

    Raises:
        AuditError: the event cannot be written; ``change`` was not run.
        whatever ``change`` raises, after a second event recording that error (if that one
        cannot be written either, the change's own error is still what the caller sees).
    """
    from broker.errors import BrokerError

    request_id = uuid.uuid4().hex
    audit.append(
        admin_event(
            event_name,
            request_parameters,
            request_id=request_id,
            response_elements=response_elements,
        )
    )
    try:
        return change()
    except Exception as exc:
        failed = admin_event(event_name, request_parameters, request_id=request_id, error=exc)
        try:
            audit.append(failed)
        except BrokerError:  # AuditError, or the database gone: the change's error matters
            pass
        raise


@contextmanager
def unchanged_on_failure(what: str) -> Iterator[None]:
    """Prefix the audit's or the database's refusal with ``what`` did not happen (one line,
    the same error kind and exit code), for the command around ``audited_change``."""
    from broker.errors import AuditError, ConfigError

    try:
        yield
    except (ConfigError, AuditError) as exc:  # StateStoreUnavailableError is a ConfigError
        raise type(exc)(f"{what}: {exc}") from None
