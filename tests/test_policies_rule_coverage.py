"""Every rule of the policy pack has its broken/passing pair in one of the rule-area test files
(``policy_cases.RULE_TEST_MODULES``: EKS and node groups, IAM and S3, Kubernetes)."""

from __future__ import annotations

from policies.genai_policies import pack
from policy_cases import covered_rules


def test_every_rule_is_covered():
    assert covered_rules() == {p.name for p in pack.policies()}
