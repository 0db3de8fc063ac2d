"""A private S3 bucket: public access blocked, SSE-KMS by default, versioned, lifecycle-managed."""

from __future__ import annotations

from typing import Optional

import json

import pulumi
from pulumi_aws import s3

from components.pod_identity import policy_document
from components.retention import DataRetention


class PrivateBucket:
    """Bucket + its public-access block, encryption, versioning and lifecycle, parented to the
    owning component. With data retained it is protected and a destroy never empties it; without,
    a destroy empties it (every version) and deletes it."""

    def __init__(self, name: str, *, parent: pulumi.Resource, tags: dict[str, str], retention: DataRetention,
                 expire_prefix: Optional[str] = None, expire_days: Optional[int] = None) -> None:
        child = pulumi.ResourceOptions(parent=parent)
        self.bucket = s3.Bucket(
            name, force_destroy=retention.force_destroy, tags=tags,
            opts=pulumi.ResourceOptions(parent=parent, protect=retention.protect),
        )
        s3.BucketPublicAccessBlock(
            f"{name}-public-access", bucket=self.bucket.id, block_public_acls=True, block_public_policy=True,
            ignore_public_acls=True, restrict_public_buckets=True, opts=child,
        )
        s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption", bucket=self.bucket.id,
            rules=[s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="aws:kms"),
                bucket_key_enabled=True,
            )],
            opts=child,
        )
        s3.BucketVersioning(
            f"{name}-versioning", bucket=self.bucket.id,
            versioning_configuration=s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"), opts=child,
        )
        s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle", bucket=self.bucket.id,
            rules=([
                s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-old-objects", status="Enabled",
                    filter=s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=expire_prefix),
                    expiration=s3.BucketLifecycleConfigurationRuleExpirationArgs(days=expire_days),
                ),
            ] if expire_days else []) + [
                s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-noncurrent-versions", status="Enabled",
                    filter=s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    noncurrent_version_expiration=s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=30),
                ),
                s3.BucketLifecycleConfigurationRuleArgs(
                    id="abort-incomplete-uploads", status="Enabled",
                    filter=s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    abort_incomplete_multipart_upload=s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=7),
                ),
            ],
            opts=child,
        )
        self.name = self.bucket.bucket
        self.arn = self.bucket.arn

    def access_policy(self) -> pulumi.Output[str]:
        """An identity policy (JSON) to read and write this bucket's objects."""
        return self.arn.apply(lambda arn: json.dumps(policy_document(bucket_access_statements(arn))))


def bucket_access_statements(bucket_arn: str, prefix: str = "") -> list[dict]:
    """Read/write objects under `prefix` and list the bucket, in this account only."""
    same_account = {"StringEquals": {"aws:ResourceAccount": "${aws:PrincipalAccount}"}}
    return [
        {
            "Sid": "Objects",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            "Resource": [f"{bucket_arn}/{prefix}*"],
            "Condition": same_account,
        },
        {
            "Sid": "List",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": [bucket_arn],
            "Condition": same_account,
        },
    ]
