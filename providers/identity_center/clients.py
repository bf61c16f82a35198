"""botocore clients for Identity Center's ``sso-oidc`` and ``sso`` services, and their errors.

Both services take no AWS signature (their models say ``noAuth``; the bearer token or client
secret is in the request), so the clients are unsigned and need no AWS credentials, as with
``aws sso login``. Timeouts are short and botocore's standard retry mode backs off on
throttling (``TooManyRequestsException``, HTTP 429) before an error reaches us.
"""

from __future__ import annotations

from typing import Any

from providers.identity_center.settings import IdentityCenterSettings

__all__ = ["error_code", "error_text", "make_client", "one_line"]


def make_client(settings: IdentityCenterSettings, service: str) -> Any:
    """An unsigned botocore client for ``service`` (``sso-oidc`` or ``sso``)."""
    import botocore.config
    import botocore.session
    from botocore import UNSIGNED

    session = botocore.session.Session()
    return session.create_client(
        service,
        region_name=settings.region,
        endpoint_url=settings.endpoint_url,
        config=botocore.config.Config(
            signature_version=UNSIGNED,
            connect_timeout=5,
            read_timeout=15,
            retries={"mode": "standard", "max_attempts": 3},
        ),
    )


def one_line(text: str, limit: int = 200) -> str:
    """``text`` on one line, cut at ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def error_code(exc: Exception) -> str:
    """The service's error code of a botocore ``ClientError`` (``UnauthorizedException`` ...)."""
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code") or "UnknownError")


def error_text(exc: Exception) -> str:
    """The service's own words for a ``ClientError`` (sso-oidc says ``error_description``)."""
    response = getattr(exc, "response", None) or {}
    error = response.get("Error", {})
    text = str(error.get("Message") or response.get("error_description") or "")
    return one_line(text)
