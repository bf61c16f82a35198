"""The broker's one error tree, and the exit code each branch maps to.

Every error the broker raises on purpose is a ``BrokerError``. Front ends (CLI, TUI, HTTP)
catch ``BrokerError`` and show ``str(error)``: one line that names what is wrong and what to
do. Nothing secret is ever put into a message. Anything else escaping is a bug.

    BrokerError                      exit 1   (generic; never raised bare)
    ├── UsageError                   exit 2   bad command-line arguments or malformed input file
    ├── ConfigError                  exit 3   broker.toml / directory config invalid or missing
    │   └── StateStoreUnavailableError       shared-state database unreachable (transient)
    ├── PolicyError                  exit 4   a policy document is malformed
    ├── DirectoryError               exit 5   unknown user/group/account, invalid directory state
    ├── ProviderError                exit 6   identity provider failed or refused
    │   ├── ProviderUnavailableError         IdP down or unreachable (transient)
    │   ├── AuthenticationError              sign-in refused, token or assertion invalid
    │   └── ReauthenticationRequired         refresh token refused (invalid_grant)
    ├── StsError                     exit 7   an STS operation refused; carries STS's own code
    ├── StoreError                   exit 8   keyring absent/locked/refused, index corrupt, lock,
    │                                          data directory unusable
    │   └── KeyringUnavailableError
    ├── AuditError                   exit 9   the audit log cannot be written or does not verify
    │   └── AuditUnavailableError            its database is unreachable (transient)
    └── ServerError                  exit 10  the HTTP service cannot start or serve

Protocol errors carry their spec's code in ``code`` (OAuth 2.0 ``error``, STS ``Code``), so a
front end can show it and tests can assert it.

The command line adds 0 (success), 1 (a check found problems), 70 (internal error), 130
(interrupted) and 141 (broken pipe); README.md's "Exit codes" is the one table of all of them.
"""

from __future__ import annotations

__all__ = [
    "AuditError",
    "AuditUnavailableError",
    "AuthenticationError",
    "BrokerError",
    "ConfigError",
    "DirectoryError",
    "KeyringUnavailableError",
    "PolicyError",
    "ProviderError",
    "ProviderUnavailableError",
    "ReauthenticationRequired",
    "ServerError",
    "SignInAgain",
    "StateStoreUnavailableError",
    "StoreError",
    "StsError",
    "UsageError",
    "one_printable_line",
]


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def one_printable_line(text: str, limit: int | None = None) -> str:
    """``text`` safe to show on a terminal or in a one-line message: every character that is
    not printable (newlines, escape sequences, bidirectional and zero-width controls) spelled
    as a Python-style escape, and, given ``limit``, cut to that many characters with a mark.

    Messages echo what a user typed (a profile name, a parameter); this keeps such a value
    from starting a second line or driving the terminal.
    """
    if limit is not None and len(text) > limit:
        text = text[:limit] + f"...({len(text) - limit} more characters)"
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escaped(char) for char in text)


class SignInAgain(str):
    """The fix "sign in again to ``provider``", worded for each front end.

    The string itself is the command line's clause (``run `broker login corp```); ``tui`` is
    the terminal app's (``press s to sign in to corp again``). Why both: the same refusal
    reaches both front ends, and each must name what works *there*. The words are made in
    one place, ``broker.login_advice``; an error carries them in ``BrokerError.sign_in``.
    """

    provider: str
    tui: str

    def __new__(cls, cli: str, *, provider: str, tui: str) -> SignInAgain:
        advice = super().__new__(cls, cli)
        advice.provider = provider
        advice.tui = tui
        return advice

    def __getnewargs_ex__(self) -> tuple[tuple[str], dict[str, str]]:
        """Copied and pickled whole (an error crossing a process boundary keeps its advice)."""
        return (str(self),), {"provider": self.provider, "tui": self.tui}


class BrokerError(Exception):
    """Root of every error the broker raises on purpose.

    Args:
        message: one line, no secrets: what is wrong and what to do.
        code: the protocol's own error code where one applies (``invalid_grant``,
            ``AccessDenied``), else ``None``.
        sign_in: when the fix is a new sign-in: ``message`` then says what is wrong up to
            the advice (its separator included) and the command line's advice is appended;
            ``tui_message`` words it for the terminal app instead.
    """

    exit_code: int = 1

    def __init__(
        self, message: str, *, code: str | None = None, sign_in: SignInAgain | None = None
    ) -> None:
        if sign_in is not None:
            message = f"{message}{sign_in}"
        super().__init__(message)
        self.message = message
        self.code = code
        self.sign_in = sign_in

    @property
    def tui_message(self) -> str:
        """The message with the terminal app's advice where the fix is a new sign-in."""
        if self.sign_in is None:
            return self.message
        return self.message.removesuffix(self.sign_in) + self.sign_in.tui

    def __str__(self) -> str:
        return self.message


class UsageError(BrokerError):
    """Arguments or an input file the user gave are malformed."""

    exit_code = 2


class ConfigError(BrokerError):
    """Configuration is invalid, missing, or names something not installed."""

    exit_code = 3


class StateStoreUnavailableError(ConfigError):
    """The shared-state database cannot be reached now (down, restarting, or every connection
    busy). Transient: the STS answers ``ServiceUnavailable`` (503), which SDKs retry."""


class PolicyError(BrokerError):
    """A policy document is malformed (not: a request was denied — that is a decision)."""

    exit_code = 4


class DirectoryError(BrokerError):
    """The directory has no such user/group/account, or its state is invalid."""

    exit_code = 5


class ProviderError(BrokerError):
    """An identity provider failed or refused."""

    exit_code = 6


class ProviderUnavailableError(ProviderError):
    """The IdP cannot be reached or answered 5xx: transient, keep stored sessions."""


class AuthenticationError(ProviderError):
    """A sign-in, token or assertion failed verification. Never retried automatically."""


class ReauthenticationRequired(ProviderError):
    """The refresh token was rejected (``invalid_grant``): the user must sign in again."""


class StsError(BrokerError):
    """An STS operation was refused; ``code`` is STS's own (``AccessDenied``, ...)."""

    exit_code = 7


class StoreError(BrokerError):
    """The credential store cannot be used: keyring, index file or lock."""

    exit_code = 8


class KeyringUnavailableError(StoreError):
    """No allowed keyring backend, or it is locked. Never fall back to plaintext."""


class AuditError(BrokerError):
    """The audit log cannot be written or fails verification. Callers fail closed."""

    exit_code = 9


class AuditUnavailableError(AuditError):
    """The audit chain's database is unreachable now: the call is refused as retryable."""


class ServerError(BrokerError):
    """The HTTP service cannot start or serve."""

    exit_code = 10
