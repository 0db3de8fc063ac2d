"""S3 rules (stack policies): every bucket has its public access block, encryption and versioning.

In pulumi-aws 7 these are separate resources whose `bucket` input is the bucket's id (= its
name). A stack policy sees each resource's outputs, so a companion belongs to a bucket when its
`bucket` equals the bucket's `id` or `bucket` output; while those are unknown (first preview),
when the companion depends on the bucket. The deprecated inline `serverSideEncryptionConfiguration`
/ `versioning` arguments of `aws.s3.Bucket` do not count: use the separate resources.
"""

from __future__ import annotations

from typing import Callable, Iterable

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from .common import as_list, dig, is_map, known_or

BUCKET_TYPES = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
PUBLIC_ACCESS_BLOCK = ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",)
ENCRYPTION = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
)
VERSIONING = ("aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2")

PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
SSE_ALGORITHMS = ("aws:kms", "aws:kms:dsse", "AES256")

_UNKNOWN = object()


def _bucket_keys(bucket: PolicyResource) -> set[str]:
    keys = {known_or(lambda k=k: bucket.props.get(k), _UNKNOWN) for k in ("id", "bucket")}
    return {k for k in keys if isinstance(k, str) and k}


def companions(args: StackValidationArgs, bucket: PolicyResource, types: Iterable[str]) -> list[PolicyResource]:
    """The resources of `types` configuring `bucket`."""
    keys = _bucket_keys(bucket)
    found = []
    for resource in args.resources:
        if resource.resource_type not in types:
            continue
        target = known_or(lambda r=resource: r.props.get("bucket"), _UNKNOWN)
        if target is _UNKNOWN:
            if any(d.urn == bucket.urn for d in resource.dependencies):
                found.append(resource)
        elif target in keys:
            found.append(resource)
    return found


def _buckets(args: StackValidationArgs) -> list[PolicyResource]:
    return [r for r in args.resources if r.resource_type in BUCKET_TYPES]


def _check_buckets(
    args: StackValidationArgs,
    report_violation: ReportViolation,
    types: Iterable[str],
    good: Callable[[PolicyResource], bool],
    message: str,
) -> None:
    for bucket in _buckets(args):
        if not any(good(c) for c in companions(args, bucket, types)):
            report_violation(f"Bucket {bucket.name}: {message}", bucket.urn)


def _public_access_blocked(block: PolicyResource) -> bool:
    return all(block.props.get(flag) is True for flag in PUBLIC_ACCESS_FLAGS)


def _encrypted(config: PolicyResource) -> bool:
    rules = [r for r in as_list(config.props.get("rules")) if is_map(r)]
    return any(dig(r, "applyServerSideEncryptionByDefault", "sseAlgorithm") in SSE_ALGORITHMS for r in rules)


def _versioned(versioning: PolicyResource) -> bool:
    return dig(versioning.props, "versioningConfiguration", "status") == "Enabled"


def _public_access_block(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    _check_buckets(
        args, report_violation, PUBLIC_ACCESS_BLOCK, _public_access_blocked,
        "no BucketPublicAccessBlock with " + ", ".join(f"{f}: true" for f in PUBLIC_ACCESS_FLAGS) + ".",
    )


def _encryption(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    _check_buckets(
        args, report_violation, ENCRYPTION, _encrypted,
        f"no BucketServerSideEncryptionConfiguration with a default sseAlgorithm ({' / '.join(SSE_ALGORITHMS)}).",
    )


def _versioning(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    _check_buckets(
        args, report_violation, VERSIONING, _versioned,
        "no BucketVersioning with versioningConfiguration.status 'Enabled'.",
    )


def policies() -> list[StackValidationPolicy]:
    """The S3 rules."""
    return [
        StackValidationPolicy(
            name="s3-public-access-block",
            description="Every S3 bucket has a public access block with all four settings on.",
            enforcement_level=EnforcementLevel.MANDATORY,
            validate=_public_access_block,
        ),
        StackValidationPolicy(
            name="s3-encryption",
            description="Every S3 bucket has default server-side encryption configured.",
            enforcement_level=EnforcementLevel.MANDATORY,
            validate=_encryption,
        ),
        StackValidationPolicy(
            name="s3-versioning",
            description="Every S3 bucket has versioning enabled.",
            enforcement_level=EnforcementLevel.MANDATORY,
            validate=_versioning,
        ),
    ]
