"""Access Broker: sign in through OIDC or SAML, map the identity to role assignments, and mint
short-lived session credentials kept in the OS keyring.

The package root stays import-light on purpose: ``credential-process`` starts here on every AWS
CLI call, so nothing heavy (Textual, HTTP clients, JOSE) is imported until a command needs it.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
