"""What `pulumi destroy` does to stored data, from one setting (`genai-platform:retainData`).

Retained (the default, for production): data holders are `protect`ed, buckets refuse to be
deleted while they hold objects, volumes outlive their claims and StatefulSets keep their
claims. Not retained (dev stacks): one `pulumi destroy` removes all of it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DataRetention:
    """The destroy-time behaviour of every resource that holds data or guards it."""

    retain: bool

    @property
    def protect(self) -> bool:
        """Pulumi's `protect`: a destroy (or replacement) stops at the resource."""
        return self.retain

    @property
    def force_destroy(self) -> bool:
        """S3 `forceDestroy`: on delete, the provider empties the bucket first, every object
        version and delete marker included (terraform-provider-aws internal/service/s3/bucket.go
        resourceBucketDelete -> emptyBucket on BucketNotEmpty). It takes effect only once an
        `up` has stored it in the state (pulumi-aws s3.Bucket docs)."""
        return not self.retain

    @property
    def reclaim_policy(self) -> str:
        """The StorageClass reclaimPolicy: what happens to an EBS volume when its claim goes."""
        return "Retain" if self.retain else "Delete"

    @property
    def claim_retention(self) -> dict[str, str]:
        """A StatefulSet's persistentVolumeClaimRetentionPolicy (mutable on a live StatefulSet).
        Scaling down never deletes a claim."""
        return {"whenDeleted": "Retain" if self.retain else "Delete", "whenScaled": "Retain"}

