"""``broker --debug``: HTTP exchanges on stderr, with every secret redacted.

The HTTP libraries already log what they send and receive: httpx (identity providers, the
console federation endpoint) one line per request, httpcore the connection steps, botocore
(the upstream ``aws`` minter) the request and the parsed answer. ``--debug`` routes those
loggers to stderr through a handler that redacts the whole formatted line before it is
written, so a secret in a header, a form, a query string, JSON or XML never reaches the
terminal: fail closed, by pattern, whatever the library put where.
"""

from __future__ import annotations

import logging
import re
import sys

__all__ = ["REDACTED", "enable_debug", "redact"]

REDACTED = "<redacted>"

# Names whose values are secrets, in any of the shapes the libraries print.
_HIDDEN_FIELDS = (
    "access_token|refresh_token|id_token|client_secret|client_assertion|assertion|code|"
    "code_verifier|device_code|password|samlresponse|samlassertion|secretaccesskey|"
    "sessiontoken|webidentitytoken|signintoken|session|tokencode|token|secret|"
    "x-amz-security-token|authorization|proxy-authorization|cookie|set-cookie|signature"
)
_PATTERNS = [
    # JSON / Python reprs: "name": "value", 'name': b'value'
    re.compile(rf"""(?i)(["'](?:{_HIDDEN_FIELDS})["']\s*:\s*b?)(["'])(?:\\.|(?!\2).)*\2"""),
    # forms and query strings: name=value
    re.compile(rf"(?i)((?:^|[?&\s,;(]|%26)(?:{_HIDDEN_FIELDS})=)[^&\s'\",;)]*"),
    # XML: <Name>value</Name>
    re.compile(rf"(?i)(<(?:{_HIDDEN_FIELDS})>)[^<]*"),
    # header lines: Name: value
    re.compile(rf"(?im)(^\s*(?:{_HIDDEN_FIELDS})\s*:\s*)\S.*$"),
]
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(?i)\b(bearer|basic|aws4-hmac-sha256)\s+[^\s'\",]+")
_USERINFO = re.compile(r"(://)[^/@\s:]+:[^/@\s]+@")


def _keep_quotes(match: re.Match[str]) -> str:
    quote = match.group(2) if match.re is _PATTERNS[0] else ""
    return f"{match.group(1)}{quote}{REDACTED}{quote}"


def redact(text: str) -> str:
    """``text`` with every value of a secret-named field, token and credential replaced."""
    for pattern in _PATTERNS:
        text = pattern.sub(_keep_quotes, text)
    text = _JWT.sub(REDACTED, text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return _USERINFO.sub(rf"\1{REDACTED}@", text)


class _RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        try:
            line = super().format(record)
        except Exception:  # a library's odd arguments: say so rather than fail the command
            line = f"{record.name}: (unformattable log record)"
        return redact(line)


_LOGGERS = {
    "httpx": logging.DEBUG,
    "httpcore": logging.DEBUG,
    "botocore.endpoint": logging.DEBUG,
    "botocore.parsers": logging.DEBUG,
    "botocore.httpsession": logging.DEBUG,
    "urllib3.connectionpool": logging.DEBUG,
    "broker": logging.DEBUG,
}


def enable_debug() -> None:
    """Send the HTTP libraries' logs (and ours) to stderr, redacted."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_RedactingFormatter("broker debug: %(name)s: %(message)s"))
    for name, level in _LOGGERS.items():
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.addHandler(handler)
