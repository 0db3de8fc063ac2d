"""k8s-image-registry lets the stack run images from the ECR repository it declares itself (the
agent server's build) with no pack config, and nothing else from ECR."""

from __future__ import annotations

from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from policy_cases import container, find, only_new, record, reported, set_in, variant, workload

RULE = "k8s-image-registry"
REPOSITORY = "aws:ecr/repository:Repository"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
OWN = "123456789012.dkr.ecr.us-east-1.amazonaws.com/genai-dev-agent-server"
IMAGE_PATH = ("spec", "template", "spec", "containers", 0, "image")


def repository(url=OWN, name="genai-dev-agent-server"):
    return record(REPOSITORY, "agent-repository", {"name": name, "imageTagMutability": "IMMUTABLE"},
                  {"name": name, "repositoryUrl": url, "registryId": "123456789012"})


def app(image: str):
    return workload(containers=[container(image=image)])


def test_both_stacks_pass_with_the_packs_own_defaults(stack_runs):
    for run in stack_runs.values():
        found = {(p, u) for p, u in reported(run.resources) if p == RULE}
        assert found == set(), run.stack
        image = find(run.resources, DEPLOYMENT, "custom-server").inputs["spec"]["template"]["spec"]["containers"][0]["image"]
        assert image.startswith(f"123456789012.dkr.ecr.us-east-1.amazonaws.com/genai-{run.stack}-agent-server:src-")


def test_the_agent_server_from_another_accounts_registry_is_reported(dev, dev_reported):
    """Same repository name, other account: not the stack's own repository."""
    other = "999999999999.dkr.ecr.us-east-1.amazonaws.com/genai-dev-agent-server:src-1@sha256:" + "a" * 64
    records, urn = variant(dev, DEPLOYMENT, "custom-server", set_in(IMAGE_PATH, other, key="both"))
    assert only_new(dev_reported, records) == {(RULE, urn)}


def test_own_repository_by_url_after_an_update():
    image = f"{OWN}:src-0f3a@sha256:{'b' * 64}"
    assert reported([repository(), app(image)]) == set()
    # another repository in the same registry, or the same name in another region, is not ours
    for other in (f"123456789012.dkr.ecr.us-east-1.amazonaws.com/someone-else:1.0",
                  f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/genai-dev-agent-server:1.0"):
        broken = app(other)
        assert reported([repository(), broken]) == {(RULE, broken.urn)}, other
    # without the repository resource, the same image is just another registry
    alone = app(image)
    assert reported([alone]) == {(RULE, alone.urn)}


def test_own_repository_by_name_while_its_url_is_unknown():
    """Preview: the repository URL is not known yet; a private ECR host and the declared name match."""
    preview = repository(url=UNKNOWN_STRING_VALUE)
    assert reported([preview, app(f"{OWN}:src-0f3a")]) == set()
    look_alike = app("ecr.example.com/genai-dev-agent-server:1.0")
    assert reported([preview, look_alike]) == {(RULE, look_alike.urn)}


def test_an_unknown_image_is_left_for_the_update():
    found = reported([repository(), app(UNKNOWN_STRING_VALUE)])
    assert not [v for v in found if v[0] == RULE]
