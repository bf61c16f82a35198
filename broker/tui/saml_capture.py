"""What the terminal app's paste field holds, turned into a SAMLResponse value by the same
functions as ``broker login NAME --saml-response -|FILE`` (``broker.commands.saml_capture``).

The field takes either the value itself (pasted: base64, possibly wrapped over lines or
form-encoded) or the path of a file holding it. A path starts with ``/``, ``~`` or ``.``; a
response never does: its base64 encodes XML, which starts with ``<`` (base64 ``P``), and
neither ``~`` nor ``.`` is in the base64 or form-encoded alphabet. No Textual here.
"""

from __future__ import annotations

import os

__all__ = ["FIELD_LABEL", "captured_response", "is_file_path"]

FIELD_LABEL = "SAML response"
_PATH_STARTS = ("/", "~", ".")
_LONGEST_PATH = 4096  # PATH_MAX; a pasted response is much longer


def is_file_path(text: str) -> bool:
    """Whether the field holds a file path rather than a pasted value (shown, not masked)."""
    entry = text.strip()
    return (
        entry.startswith(_PATH_STARTS)
        and len(entry) <= _LONGEST_PATH
        and not any(c.isspace() for c in entry)
    )


def captured_response(text: str) -> str:
    """The SAMLResponse value in the field, read from the file it names if it names one.

    Raises:
        UsageError: one line: the file is unreadable or open to others, or the value is empty
            or too large (exactly as ``--saml-response`` refuses them).
    """
    from broker.commands.saml_capture import captured_value, read_captured_response

    if is_file_path(text):
        return read_captured_response(os.path.expanduser(text.strip()), label=FIELD_LABEL)
    return captured_value(text, "the pasted value", label=FIELD_LABEL)
