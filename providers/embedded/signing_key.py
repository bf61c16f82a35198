"""The embedded issuer's ES256 signing key, kept in the OS keyring through ``SecretStore``.

One key for every process of this user, so an ID token minted by one broker process verifies
in another (the headless refresher) and a refresh token outlives the process that issued it.
"""

from __future__ import annotations

import json

from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from broker.errors import ProviderError
from providers.base import SecretStore

__all__ = ["KEYRING_ENTRY", "load_or_create_key"]

KEYRING_ENTRY = "embedded-idp:signing-key"


def load_or_create_key(secrets: SecretStore) -> ECKey:
    """The signing key from the keyring, created (and stored) on first use.

    Raises:
        ProviderError: the stored key is not a usable P-256 private key.
    """
    stored = secrets.get_secret(KEYRING_ENTRY)
    if stored is None:
        fresh = ECKey.generate_key("P-256", auto_kid=True)
        secrets.set_secret(KEYRING_ENTRY, json.dumps(fresh.as_dict(private=True)))
        return fresh
    key: ECKey | None
    try:
        key = ECKey.import_key(json.loads(stored))
    except (JoseError, ValueError, TypeError):
        key = None
    if key is None or not key.is_private or key.curve_name != "P-256":
        raise ProviderError(
            f"the embedded IdP's signing key in the keyring ({KEYRING_ENTRY!r}) is unusable; "
            "delete that keyring entry to make a new one"
        )
    if key.kid is None:
        key.ensure_kid()
    return key
