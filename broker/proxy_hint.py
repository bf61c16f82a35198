"""Naming the proxy a request went through, for "cannot reach" errors.

Why: behind a corporate proxy, "cannot reach the identity provider" sends people to check the
IdP when the proxy is what refused (wrong ``HTTPS_PROXY``, a proxy that needs a login, a
``NO_PROXY`` that misses an internal host). When a proxy from the environment applies to the
URL, the error says which variable set it. The proxy's own user and password are never shown.
Standard library only, so providers may use it too.
"""

from __future__ import annotations

import urllib.request
from urllib.parse import urlsplit

# Public in CPython but missing from typeshed: the NO_PROXY check of the environment.
_bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]

__all__ = ["proxy_for", "proxy_hint"]

_VARIABLES = {"https": "HTTPS_PROXY", "http": "HTTP_PROXY", "all": "ALL_PROXY"}


def _without_credentials(proxy: str) -> str:
    parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def proxy_for(url: str) -> tuple[str, str] | None:
    """``(variable, proxy without credentials)`` that applies to ``url``, or None."""
    parts = urlsplit(url)
    proxies = urllib.request.getproxies()
    host = parts.hostname or ""
    if not host or _bypass(host, proxies):
        return None
    for scheme in (parts.scheme, "all"):
        proxy = proxies.get(scheme)
        if proxy:
            return _VARIABLES.get(scheme, f"{scheme}_proxy".upper()), _without_credentials(proxy)
    return None


def proxy_hint(url: str) -> str:
    """``" through the proxy in HTTPS_PROXY (http://proxy:3128); check it or set NO_PROXY"``
    when a proxy applies to ``url``, else ``""`` (to append to an error line)."""
    found = proxy_for(url)
    if found is None:
        return ""
    variable, proxy = found
    return f" through the proxy in {variable} ({proxy}); check it, or list the host in NO_PROXY"
