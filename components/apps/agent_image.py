"""The agent server's image: built from agent_server/ and pushed to an ECR repository the stack owns.

The tag is a hash of the files the build sends (the context minus `.dockerignore`), computed here,
so a preview knows it and it changes exactly when the image's sources do; the repository's tags
are immutable, so a tag always names the same image.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
from pathlib import Path
from typing import Optional

import pulumi
import pulumi_aws as aws
import pulumi_docker_build as docker_build

from components import catalog

SOURCE_DIR = Path(__file__).resolve().parents[2] / "agent_server"
KEEP_TAGGED_IMAGES = 10
# Docker platform of each node architecture (catalog.architecture)
PLATFORMS = {"x86_64": docker_build.Platform.LINUX_AMD64, "arm64": docker_build.Platform.LINUX_ARM64}


def ignore_patterns(source: Path) -> list[str]:
    """The context's `.dockerignore` patterns (comments and blank lines dropped). Docker anchors them
    at the context root, matches Go filepath.Match globs plus `**` for any number of folders
    (Docker docs, ".dockerignore file"); `!` exceptions are not supported here, so refused."""
    path = source / ".dockerignore"
    lines = [line.strip() for line in (path.read_text().splitlines() if path.exists() else [])]
    patterns = [line.strip("/") for line in lines if line and not line.startswith("#")]
    if any(p.startswith("!") for p in patterns):
        raise ValueError(f"{path}: '!' exceptions are not supported by the content tag; list exclusions only")
    return patterns


def _matches(parts: list[str], pattern: list[str]) -> bool:
    """Docker's .dockerignore matching: segment by segment (`*` stays within one), `**` any depth."""
    if not pattern:
        return not parts
    if pattern[0] == "**":
        return any(_matches(parts[i:], pattern[1:]) for i in range(len(parts) + 1))
    return bool(parts) and fnmatch.fnmatchcase(parts[0], pattern[0]) and _matches(parts[1:], pattern[1:])


def _ignored(relative: str, patterns: list[str]) -> bool:
    """A path, or a folder above it, matches a pattern (an excluded folder excludes its files)."""
    parts = relative.split("/")
    return any(_matches(parts[:i], pattern.split("/")) for pattern in patterns for i in range(1, len(parts) + 1))


def context_files(source: Path = SOURCE_DIR) -> list[Path]:
    """The files `docker build` sends from `source`, sorted."""
    patterns = ignore_patterns(source)
    files = (p for p in source.rglob("*") if p.is_file())
    return sorted(p for p in files if not _ignored(p.relative_to(source).as_posix(), patterns))


def content_tag(source: Path = SOURCE_DIR, platforms: tuple[str, ...] = ("linux/amd64",)) -> str:
    """`src-<24 hex>`: SHA-256 over each sent file's path, mode and bytes, and the platforms."""
    digest = hashlib.sha256(json.dumps(sorted(platforms)).encode())
    for path in context_files(source):
        digest.update(path.relative_to(source).as_posix().encode() + b"\0")
        digest.update(b"x" if path.stat().st_mode & 0o111 else b"-")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return f"src-{digest.hexdigest()[:24]}"


def platforms_for(system_instance_type: str) -> list[docker_build.Platform]:
    """linux/amd64 always; linux/arm64 too when the system nodes are Graviton (the image is an
    index of both, so it also runs if the node group changes architecture)."""
    platforms = [docker_build.Platform.LINUX_AMD64]
    if catalog.architecture(system_instance_type) == "arm64":
        platforms.append(docker_build.Platform.LINUX_ARM64)
    return platforms


def lifecycle_policy() -> str:
    """Keep the newest tagged images (rollback room); older builds expire. Untagged images are
    left alone: a multi-platform push stores its per-platform manifests untagged under the tag's
    index, and expiring them would break the tagged image."""
    return json.dumps({"rules": [{
        "rulePriority": 1,
        "description": f"Keep the newest {KEEP_TAGGED_IMAGES} agent server builds",
        "selection": {"tagStatus": "tagged", "tagPatternList": ["*"], "countType": "imageCountMoreThan",
                      "countNumber": KEEP_TAGGED_IMAGES},
        "action": {"type": "expire"},
    }]})


class AgentImage(pulumi.ComponentResource):
    """ECR repository (scan on push, immutable tags, KMS encryption, lifecycle policy) and the
    image built from agent_server/ and pushed to it with pulumi-docker-build."""

    ref: pulumi.Output[str]
    """`<repository url>:<content tag>@sha256:<digest>` (what the Deployment runs)."""
    repository_url: pulumi.Output[str]

    def __init__(self, name: str, *, repository_name: str, system_instance_type: str, tags: dict[str, str],
                 source: Path = SOURCE_DIR, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("genai:apps:AgentImage", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        repository = aws.ecr.Repository(
            f"{name}-repository",
            name=repository_name,
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration={"scan_on_push": True},
            # KMS with the AWS managed key aws/ecr (no kms_key given): CloudFormation
            # AWS::ECR::Repository EncryptionConfiguration
            encryption_configurations=[{"encryption_type": "KMS"}],
            # Images are rebuilt from source: `pulumi destroy` may delete the repository with them
            force_delete=True,
            tags=tags,
            opts=child,
        )
        aws.ecr.LifecyclePolicy(f"{name}-lifecycle", repository=repository.name, policy=lifecycle_policy(), opts=child)

        platforms = platforms_for(system_instance_type)
        tag = content_tag(source, tuple(p.value for p in platforms))
        token = aws.ecr.get_authorization_token_output(registry_id=repository.registry_id)
        image = docker_build.Image(
            f"{name}-image",
            # Relative to the project (Pulumi runs the program there): the same state from any checkout path
            context={"location": "./agent_server" if source == SOURCE_DIR else str(source)},
            platforms=platforms,
            push=True,
            tags=[repository.repository_url.apply(lambda url: f"{url}:{tag}")],
            # The token rotates (12 h); the provider's Diff ignores password changes and rebuilds only
            # when the context hash, tags or other inputs change (pulumi-docker-build
            # provider/internal/image.go, Diff), so an unchanged tag is never pushed twice
            registries=[{"address": repository.repository_url, "username": token.user_name,
                         "password": token.password}],
            # A preview needs no Docker daemon; the tag above already says whether the image changes
            build_on_preview=False,
            opts=child,
        )
        self.tag = tag
        self.ref = image.ref
        self.repository_url = repository.repository_url
        self.register_outputs({"ref": self.ref, "repository_url": self.repository_url})

