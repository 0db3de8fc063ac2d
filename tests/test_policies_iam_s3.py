"""Policy-pack rules for IAM (role trust and permission policies) and S3 buckets: a broken variant
that EXACTLY the rule reports, and a passing twin (see tests/policy_cases.py)."""

from __future__ import annotations

import copy
import json
from typing import Callable, Optional

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from policy_cases import (
    DELETE,
    ROLE,
    ROLE_POLICY,
    assert_untouched,
    assert_variant_reports,
    covers,
    only_new,
    set_in,
    variant,
)
from tools.offline.records import ResourceRecord


# --- IAM -----------------------------------------------------------------------------------


def edit_document(key: str, edit: Callable[[dict], None]) -> Callable[[ResourceRecord], None]:
    def change(record: ResourceRecord) -> None:
        document = json.loads(record.inputs[key])
        edit(document)
        record.inputs[key] = json.dumps(document)
    return change


def first_statement(**fields) -> Callable[[dict], None]:
    def edit(document: dict) -> None:
        for key, value in fields.items():
            if value is DELETE:
                document["Statement"][0].pop(key, None)
            else:
                document["Statement"][0][key] = value
    return edit


@covers("iam-no-wildcards")
@pytest.mark.parametrize("type_, name, key, edit", [
    (ROLE_POLICY, "bedrock", "policy", first_statement(Action=["bedrock:*"])),
    (ROLE_POLICY, "bedrock", "policy", first_statement(Action="*")),
    (ROLE_POLICY, "bedrock", "policy", first_statement(Resource="*")),
    (ROLE_POLICY, "bedrock", "policy", first_statement(Action=DELETE, NotAction=["iam:*"])),
    (ROLE_POLICY, "control-plane-kms", "policy", first_statement(Resource=["*"])),
    (ROLE, "control-plane", "assumeRolePolicy", first_statement(Action="sts:*")),
])
def test_no_wildcards(dev, dev_reported, type_, name, key, edit):
    assert_variant_reports(dev, dev_reported, "iam-no-wildcards", type_, name, edit_document(key, edit))


def test_no_wildcards_in_inline_policies_and_deny_is_fine(dev, dev_reported):
    def inline(statement):
        document = {"Version": "2012-10-17", "Statement": [statement]}
        return set_in(("inlinePolicies",), [{"name": "extra", "policy": json.dumps(document)}])

    allow_all = inline({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"})
    records, urn = variant(dev, ROLE, "control-plane", allow_all)
    assert only_new(dev_reported, records) == {("iam-no-wildcards", urn)}
    deny_all = inline({"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
    records, urn = variant(dev, ROLE, "control-plane", deny_all)
    assert only_new(dev_reported, records) == set()


@covers("iam-pod-identity-trust")
@pytest.mark.parametrize("edit", [
    first_statement(Principal={"Service": "pods.eks.amazonaws.com", "AWS": "arn:aws:iam::123456789012:root"}),
    first_statement(Principal={"Service": ["pods.eks.amazonaws.com", "ec2.amazonaws.com"]}),
    first_statement(Action="sts:AssumeRole"),
    first_statement(Action=["sts:AssumeRole", "sts:TagSession", "sts:AssumeRoleWithWebIdentity"]),
    lambda doc: doc["Statement"].append(
        {"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/x"}, "Action": "sts:TagSession"}),
])
def test_pod_identity_trust(dev, dev_reported, edit):
    change = edit_document("assumeRolePolicy", edit)
    assert_variant_reports(dev, dev_reported, "iam-pod-identity-trust", ROLE, "bedrock", change)


def scope_condition(edit: Callable[[dict], None]) -> Callable[[dict], None]:
    """Edit the first statement's Condition block (a copy of the program's own)."""
    def change(document: dict) -> None:
        edit(document["Statement"][0]["Condition"])
    return change


def move_to_string_like(condition: dict) -> None:
    condition["StringLike"] = {k: condition["StringEquals"].pop(k) for k in list(condition["StringEquals"])
                               if k.startswith("aws:RequestTag/")}


@covers("iam-pod-identity-scoped")
@pytest.mark.parametrize("role", ["bedrock", "ebs-csi"])
@pytest.mark.parametrize("edit", [
    # only the account: any association in the account could use the role
    scope_condition(lambda c: c.update(StringEquals={"aws:SourceAccount": c["StringEquals"]["aws:SourceAccount"]})),
    scope_condition(lambda c: c["StringEquals"].pop("aws:RequestTag/eks-cluster-name")),
    scope_condition(lambda c: c["StringEquals"].pop("aws:RequestTag/kubernetes-namespace")),
    scope_condition(lambda c: c["StringEquals"].pop("aws:RequestTag/kubernetes-service-account")),
    scope_condition(lambda c: c["StringEquals"].update({"aws:RequestTag/kubernetes-service-account": []})),
    scope_condition(lambda c: c["StringEquals"].update({"aws:RequestTag/eks-cluster-name": ""})),
    scope_condition(move_to_string_like),  # StringLike would take wildcards: exact names only
    first_statement(Condition=DELETE),
])
def test_pod_identity_trust_is_scoped(dev, dev_reported, role, edit):
    change = edit_document("assumeRolePolicy", edit)
    assert_variant_reports(dev, dev_reported, "iam-pod-identity-scoped", ROLE, role, change)


def test_pod_identity_scope_is_checked_in_every_statement(dev, dev_reported):
    """A second, unscoped statement for the pods principal opens the role whatever the first says."""
    def add_unscoped(document: dict) -> None:
        document["Statement"].append({"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
                                      "Action": ["sts:AssumeRole", "sts:TagSession"]})
    assert_variant_reports(dev, dev_reported, "iam-pod-identity-scoped", ROLE, "bedrock",
                           edit_document("assumeRolePolicy", add_unscoped))


def test_association_keeps_the_session_tags_the_trust_reads(dev, dev_reported):
    assert_variant_reports(dev, dev_reported, "iam-pod-identity-scoped",
                           "aws:eks/podIdentityAssociation:PodIdentityAssociation", "bedrock-genai-litellm",
                           set_in(("disableSessionTags",), True))
    records, _ = variant(dev, "aws:eks/podIdentityAssociation:PodIdentityAssociation", "bedrock-genai-litellm",
                         set_in(("disableSessionTags",), False))
    assert only_new(dev_reported, records) == set()


# --- S3 (the dev run's real buckets) -------------------------------------------------------

BUCKET = "aws:s3/bucket:Bucket"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"


@pytest.fixture(scope="session")
def a_bucket(dev) -> tuple[ResourceRecord, dict[str, ResourceRecord]]:
    """One of the dev run's buckets and its companions by type."""
    bucket = dev.of_type(BUCKET)[0]
    companions = {
        r.type: r for r in dev.resources
        if r.type in (PUBLIC_ACCESS_BLOCK, ENCRYPTION, VERSIONING) and r.inputs.get("bucket") == bucket.outputs["id"]
    }
    assert set(companions) == {PUBLIC_ACCESS_BLOCK, ENCRYPTION, VERSIONING}
    return bucket, companions


def without(dev, removed: ResourceRecord) -> list[ResourceRecord]:
    return [r for r in dev.resources if r is not removed]


def replaced(dev, original: ResourceRecord, change: Callable[[ResourceRecord], None]) -> list[ResourceRecord]:
    changed = copy.deepcopy(original)
    change(changed)
    return [changed if r is original else r for r in dev.resources]


def assert_companion_rule(dev, dev_reported, a_bucket, rule: str, companion_type: str,
                          change: Optional[Callable[[ResourceRecord], None]]) -> None:
    """The bucket's companion of `companion_type` removed (`change` None) or changed: exactly `rule`
    reports the bucket; the program's own bucket does not violate it."""
    bucket, companions = a_bucket
    companion = companions[companion_type]
    records = without(dev, companion) if change is None else replaced(dev, companion, change)
    assert only_new(dev_reported, records) == {(rule, bucket.urn)}
    assert_untouched(dev_reported, rule, bucket.urn)


@covers("s3-public-access-block")
@pytest.mark.parametrize("flag", ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets", None])
def test_public_access_block(dev, dev_reported, a_bucket, flag):
    change = None if flag is None else set_in((flag,), False, key="both")
    assert_companion_rule(dev, dev_reported, a_bucket, "s3-public-access-block", PUBLIC_ACCESS_BLOCK, change)


@covers("s3-encryption")
@pytest.mark.parametrize("remove", [True, False])
def test_encryption(dev, dev_reported, a_bucket, remove):
    change = None if remove else set_in(("rules",), [], key="both")
    assert_companion_rule(dev, dev_reported, a_bucket, "s3-encryption", ENCRYPTION, change)


@covers("s3-versioning")
@pytest.mark.parametrize("remove", [True, False])
def test_versioning(dev, dev_reported, a_bucket, remove):
    change = None if remove else set_in(("versioningConfiguration", "status"), "Suspended", key="both")
    assert_companion_rule(dev, dev_reported, a_bucket, "s3-versioning", VERSIONING, change)


def test_bucket_companions_matched_through_dependencies_in_preview(dev, dev_reported, a_bucket):
    bucket, companions = a_bucket
    records = list(dev.resources)
    for companion in companions.values():
        assert bucket.urn in companion.dependencies
        records = [_unknown_bucket(r) if r is companion else r for r in records]
    assert only_new(dev_reported, records) == set()


def _unknown_bucket(record: ResourceRecord) -> ResourceRecord:
    changed = copy.deepcopy(record)
    changed.outputs["bucket"] = UNKNOWN_STRING_VALUE
    return changed
