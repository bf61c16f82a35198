"""Where a SAML response meant for AWS STS must be addressed, and who it must name as audience.

AWS's IAM User Guide ("Configure SAML assertions for the authentication response") requires the
one bearer ``SubjectConfirmationData`` to carry ``NotOnOrAfter`` and a ``Recipient`` equal to an
AWS sign-in endpoint, and the audience to be AWS's own entity id. A response addressed to anything
else (our loopback ACS included) is refused by AWS, so an ``aws_federation`` provider checks the
same at sign-in, against these allow-listed shapes only:

* ``https://signin.aws.amazon.com/saml`` (the default) or ``https://REGION.signin.aws.amazon.com/saml``
  (partition ``aws``), audience ``urn:amazon:webservices``;
* ``https://signin.amazonaws.cn/saml`` (``aws-cn``), audience ``urn:amazon:webservices:cn-north-1``;
* ``https://signin.amazonaws-us-gov.com/saml`` (``aws-us-gov``), audience
  ``urn:amazon:webservices:govcloud``.

The audience may also be the sign-in URL itself (AWS accepts either); nothing else is allowed.
"""

from __future__ import annotations

import re

__all__ = ["DEFAULT_SIGNIN_URL", "allowed_audiences", "default_audience", "signin_url_problem"]

DEFAULT_SIGNIN_URL = "https://signin.aws.amazon.com/saml"

_AWS = re.compile(r"https://(?:[a-z]{2}(?:-[a-z]+)+-[0-9]\.)?signin\.aws\.amazon\.com/saml")
_PARTITION_AUDIENCE = {
    "https://signin.amazonaws.cn/saml": "urn:amazon:webservices:cn-north-1",
    "https://signin.amazonaws-us-gov.com/saml": "urn:amazon:webservices:govcloud",
}


def signin_url_problem(url: str) -> str | None:
    """Why ``url`` is not an AWS sign-in endpoint we accept, or None when it is."""
    if _AWS.fullmatch(url) or url in _PARTITION_AUDIENCE:
        return None
    return (
        "must be an AWS sign-in endpoint: https://signin.aws.amazon.com/saml, "
        "https://REGION.signin.aws.amazon.com/saml, https://signin.amazonaws.cn/saml or "
        "https://signin.amazonaws-us-gov.com/saml"
    )


def default_audience(signin_url: str) -> str:
    """AWS's entity id in the partition of ``signin_url`` (an allow-listed endpoint)."""
    return _PARTITION_AUDIENCE.get(signin_url, "urn:amazon:webservices")


def allowed_audiences(signin_url: str) -> tuple[str, ...]:
    """The audiences AWS accepts for responses addressed to ``signin_url``."""
    return (default_audience(signin_url), signin_url)
