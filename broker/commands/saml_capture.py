"""Reading a captured ``SAMLResponse`` for ``broker login NAME --saml-response -|FILE``.

The value is a bearer credential for AWS until its assertion expires, so a file holding it must
be the person's own and closed to everybody else (refused otherwise, naming the ``chmod``), and
it is never echoed. Pasted into a terminal it is read with line editing off: a terminal's line
discipline keeps at most 4095 characters of a line, and a response is often longer. The value
is taken as the browser shows it: base64, possibly wrapped over lines or still form-encoded
(``%2B`` for ``+``; base64 itself never contains ``%``).
"""

from __future__ import annotations

import os
import sys
import termios
from pathlib import Path
from urllib.parse import unquote

from broker.errors import UsageError
from broker.private_files import PrivateFiles
from broker.tokens.saml.safe_xml import MAX_ENCODED_BYTES

__all__ = ["captured_value", "read_captured_response"]

_PROMPT = "Paste the SAMLResponse value, then press Enter (it is not shown):"
_LIMIT = MAX_ENCODED_BYTES * 3
_FLAG = "--saml-response"


def read_captured_response(source: str, *, label: str = _FLAG) -> str:
    """The response from stdin (``-``) or from the private file ``source``; ``label`` starts
    each error line (the terminal app names its field instead of the flag).

    Raises:
        UsageError: the file is unreadable, open to others, too large, or the value is empty.
    """
    if source == "-":
        raw = _read_terminal() if sys.stdin.isatty() else sys.stdin.read(_LIMIT + 1)
        where = "standard input"
    else:
        raw = _read_private(Path(source), label)
        where = source
    return captured_value(raw, where, label=label)


def captured_value(raw: str, where: str, *, label: str = _FLAG) -> str:
    """The SAMLResponse value in ``raw`` as the browser showed it (wrapped, form-encoded, or
    with its ``SAMLResponse=`` name), read from ``where`` (named in errors).

    Raises:
        UsageError: too large for a response, or empty.
    """
    if len(raw) > _LIMIT:
        raise UsageError(f"{label}: {where} holds more than a SAMLResponse value")
    value = "".join(raw.split())
    if "%" in value:
        value = unquote(value)
    if value.startswith("SAMLResponse="):
        value = value.removeprefix("SAMLResponse=")
    if not value:
        raise UsageError(f"{label}: {where} is empty; paste the SAMLResponse value")
    return value


def _read_private(path: Path, label: str) -> str:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise UsageError(f"{label}: cannot read {path} ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as handle:
        PrivateFiles(UsageError).check(path, os.fstat(fd), directory=False)
        data = handle.read(_LIMIT + 1)
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        raise UsageError(f"{label}: {path} is not a base64 SAMLResponse value") from None


def _read_terminal() -> str:
    """One pasted line from the terminal, without echo and without canonical line editing
    (whose line buffer would cut a long value), ended by Enter."""
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    quiet = termios.tcgetattr(fd)
    quiet[3] &= ~(termios.ICANON | termios.ECHO)
    quiet[6][termios.VMIN] = 1
    quiet[6][termios.VTIME] = 0
    chunks: list[bytes] = []
    size = 0
    try:
        termios.tcsetattr(fd, termios.TCSANOW, quiet)
        print(_PROMPT, file=sys.stderr, flush=True)  # only now: what is pasted is not echoed
        while size <= _LIMIT:
            chunk = os.read(fd, 65536)
            if not chunk or chunk[:1] == b"\x04":  # end of input, or Ctrl-D on an empty line
                break
            ended = b"\n" in chunk or b"\r" in chunk
            chunks.append(chunk)
            size += len(chunk)
            if ended and b"".join(chunks).strip():
                break
    finally:
        termios.tcsetattr(fd, termios.TCSANOW, saved)
    print(file=sys.stderr, flush=True)
    return b"".join(chunks).decode("ascii", errors="replace")
