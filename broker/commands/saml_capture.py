"""Reading a captured ``SAMLResponse`` for ``broker login NAME --saml-response -|FILE``.

The value is a bearer credential for AWS until its assertion expires, so a file holding it must
be the person's own and closed to everybody else (refused otherwise, naming the ``chmod``), and
it is never echoed. The value is taken as the browser shows it: base64, possibly wrapped over
lines or still form-encoded (``%2B`` for ``+``; base64 itself never contains ``%``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import unquote

from broker.errors import UsageError
from broker.private_files import PrivateFiles
from broker.tokens.saml.safe_xml import MAX_ENCODED_BYTES

__all__ = ["read_captured_response"]

_PROMPT = "Paste the SAMLResponse value, then press Enter and Ctrl-D:"


def read_captured_response(source: str) -> str:
    """The response from stdin (``-``) or from the private file ``source``.

    Raises:
        UsageError: the file is unreadable, open to others, too large, or the value is empty.
    """
    if source == "-":
        if sys.stdin.isatty():
            print(_PROMPT, file=sys.stderr, flush=True)
        raw = sys.stdin.read(MAX_ENCODED_BYTES * 3 + 1)
        where = "standard input"
    else:
        raw = _read_private(Path(source))
        where = source
    if len(raw) > MAX_ENCODED_BYTES * 3:
        raise UsageError(f"--saml-response: {where} holds more than a SAMLResponse value")
    value = "".join(raw.split())
    if "%" in value:
        value = unquote(value)
    if value.startswith("SAMLResponse="):
        value = value.removeprefix("SAMLResponse=")
    if not value:
        raise UsageError(f"--saml-response: {where} is empty; paste the SAMLResponse value")
    return value


def _read_private(path: Path) -> str:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise UsageError(f"--saml-response: cannot read {path} ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as handle:
        PrivateFiles(UsageError).check(path, os.fstat(fd), directory=False)
        data = handle.read(MAX_ENCODED_BYTES * 3 + 1)
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        raise UsageError(f"--saml-response: {path} is not a base64 SAMLResponse value") from None
