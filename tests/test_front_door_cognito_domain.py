"""The Cognito hosted-UI prefix domain: Cognito refuses a prefix containing aws, amazon or cognito
(tools/offline/cognito_api.py), and the prefix is built from the stack's name and a random suffix,
either of which may contain them (an environment named `aws-lab`, a suffix that spells `aws`)."""

from __future__ import annotations

import pytest

from tools.offline.cognito_api import check_domain_prefix


def test_a_prefix_cognito_would_refuse_is_refused_offline():
    with pytest.raises(ValueError, match="contains aws"):
        check_domain_prefix("genai-aws-lab-front-door-sso-1a2b3c4d")
    with pytest.raises(ValueError, match="not allowed"):
        check_domain_prefix("-genai")
    assert check_domain_prefix("auth.example.com") == "auth.example.com"  # a custom domain


@pytest.mark.parametrize("raw", [
    "genai-aws-lab-front-door-sso-1a2b3c4d",
    "genai-dev-front-door-sso-xawsq1z9",
    "amazon-genai-front-door-sso-cognito1",
    "genai-" + "x" * 70,
])
def test_the_prefix_never_holds_what_cognito_refuses(raw):
    from components.front_door.identity import cognito_domain_prefix  # noqa: PLC0415

    assert check_domain_prefix(cognito_domain_prefix(raw))


def test_a_valid_prefix_is_kept_as_it_was(raw="genai-prod-front-door-sso-1a2b3c4d"):
    """Deployed stacks keep their hosted-UI domain: a prefix Cognito accepts is not rewritten."""
    from components.front_door.identity import cognito_domain_prefix  # noqa: PLC0415

    assert cognito_domain_prefix(raw) == raw


def test_an_environment_named_aws_lab_deploys_cognito(run_with):
    run = run_with("prod", {"genai-platform:environment": "aws-lab"})
    (domain,) = run.of_type("aws:cognito/userPoolDomain:UserPoolDomain")
    assert "aws" not in domain.inputs["domain"] and domain.inputs["domain"].startswith("genai-")
