"""Whether cached credentials are of a session the broker's own STS has revoked.

Why: ``broker sts revoke`` makes ``broker serve`` refuse a session, but the client kept serving
the revoked credentials from its cache until they expired, and ``refresh`` kept them too. For
profiles minted by the ``local`` minter (which shares the data directory, and so the rules the
STS checks), the chain asks this check before serving cached credentials and re-mints when it
says yes.

The token's claims are read without verifying its signature: it is our own cache's entry, and
a match can only make us refuse it, never accept anything; a token that is not one of ours
(another minter's, or test data) matches no rule. The rules are the ones every verification
uses, in the one state database (``broker.sts.state``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from broker.minters.base import Credentials

if TYPE_CHECKING:
    from broker.sts.revocation import RevocationSource
    from broker.sts.session_token import SessionClaims
    from broker.sts.state_handle import StateHandle

__all__ = ["revocation_check"]


def _claims(token: str) -> SessionClaims | None:
    from jose import jwt
    from jose.exceptions import JOSEError

    from broker.sts.session_token import MAX_TOKEN_BYTES, SessionClaims

    if len(token) > MAX_TOKEN_BYTES or token.count(".") != 2:
        return None
    try:
        return SessionClaims.from_claims(jwt.get_unverified_claims(token))
    except (JOSEError, KeyError, TypeError, ValueError, AttributeError):
        return None


def revocation_check(state: StateHandle) -> Callable[[Credentials], bool]:
    """A check: True when ``credentials`` belong to a session revoked in the rules of the
    front end's ``state`` (opened on the first token of ours that is checked).

    Raises (when called):
        ConfigError: the rules file is unreadable (fail closed: nothing is served).
    """

    def revoked(credentials: Credentials) -> bool:
        claims = _claims(credentials.session_token)
        if claims is None:
            return False
        # asked of the state each time: a front end working in rounds opens it anew per round
        rules: RevocationSource = state.state().shared.revocations
        return rules.is_revoked(claims)

    return revoked
