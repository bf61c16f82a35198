"""Identity providers behind one interface (``providers.base.IdentityProvider``).

Built-in providers (``oidc``, ``saml``, ``embedded``) register through the ``broker.providers``
entry-point group exactly as third-party ones do; ``providers.registry`` loads them by name.
Providers depend only on ``broker.errors``: claims in, nothing else.
"""

from providers.base import (
    Capabilities,
    Claims,
    IdentityProvider,
    ProviderContext,
    ReplayCache,
    SecretStore,
    SignInOptions,
    SignInResult,
    SignInUI,
)

__all__ = [
    "Capabilities",
    "Claims",
    "IdentityProvider",
    "ProviderContext",
    "ReplayCache",
    "SecretStore",
    "SignInOptions",
    "SignInResult",
    "SignInUI",
]
