"""What Cognito refuses, for the offline engine: a prefix domain it would not create.

CreateUserPoolDomain takes a prefix of 1-63 characters matching `^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`
(Cognito API Reference, CreateUserPoolDomain `Domain`), and the Cognito console's rule for prefixes:
"You can't use the text aws, amazon, or cognito in the domain prefix".
"""

from __future__ import annotations

import re

USER_POOL_DOMAIN = "aws:cognito/userPoolDomain:UserPoolDomain"
_PREFIX = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
RESERVED_WORDS = ("aws", "amazon", "cognito")


def check_domain_prefix(domain: str) -> str:
    """`domain`, or the error CreateUserPoolDomain answers for it (a custom domain has a dot)."""
    if "." in domain:
        return domain
    reserved = [word for word in RESERVED_WORDS if word in domain]
    if not _PREFIX.match(domain) or reserved:
        raise ValueError(f"InvalidParameterException: CreateUserPoolDomain: domain prefix {domain!r} is not allowed"
                         + (f" (it contains {', '.join(reserved)})" if reserved else ""))
    return domain
