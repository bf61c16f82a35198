"""OpenID Connect token validation: discovery (issuer metadata), JWKS (the issuer's keys) and
ID-token checks, plus the HTTP edge they share.

Nothing here is imported at broker start-up; callers import the module they need lazily
(httpx and joserfc are heavy).
"""

__all__: list[str] = []
