"""Settings shapes every workload shares: a pinned image reference, container resources, a CPU HPA."""

from __future__ import annotations

import re
from typing import Annotated, Optional

from pydantic import AfterValidator, Field, field_validator, model_validator

from components.k8s.quantity import cpu_millis, memory_bytes
from components.settings.errors import bad_value
from components.settings.infra import Section

_IMAGE = re.compile(r"^[a-z0-9.-]+(:\d+)?(/[a-z0-9._-]+)+(:[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})$")


def pinned_image(value: str) -> str:
    """An image reference with an explicit registry and a versioned tag or a digest. A tag
    without a digit (latest, main, stable, main-stable) or with `latest` in it moves."""
    match = _IMAGE.match(value)
    tag = (match.group(3) or "") if match else ""
    if not match or (tag.startswith(":") and (not re.search(r"\d", tag) or "latest" in tag)):
        raise bad_value(
            (), value,
            "a pinned image: registry/repository:<version or commit tag> or @sha256 digest "
            "(moving tags such as latest, main, stable or main-latest are not pinned)",
        )
    return value


PinnedImage = Annotated[str, AfterValidator(pinned_image)]


class Resources(Section):
    """Container requests; limits default to the requests (memory) and 4x (CPU)."""

    cpu: str = "250m"
    memory: str = "512Mi"
    cpu_limit: Optional[str] = None
    memory_limit: Optional[str] = None

    @field_validator("cpu", "cpu_limit")
    @classmethod
    def _cpu(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not 0 < _parsed(cpu_millis, value) <= MAX_CPU_MILLIS:
            raise bad_value((), value, f"a CPU quantity above 0 and at most {MAX_CPU_MILLIS // 1000}, such as 500m or 2")
        return value

    @field_validator("memory", "memory_limit")
    @classmethod
    def _memory(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and not 0 < _parsed(memory_bytes, value) <= MAX_MEMORY_BYTES:
            raise bad_value((), value, "a memory quantity above 0 and at most 2Ti, such as 512Mi or 4Gi")
        return value

    @model_validator(mode="after")
    def _limits_cover_requests(self):
        if self.cpu_limit is not None and cpu_millis(self.cpu_limit) < cpu_millis(self.cpu):
            raise bad_value("cpuLimit", self.cpu_limit, f"at least the CPU request ({self.cpu})")
        if self.memory_limit is not None and memory_bytes(self.memory_limit) < memory_bytes(self.memory):
            raise bad_value("memoryLimit", self.memory_limit, f"at least the memory request ({self.memory})")
        return self


MAX_CPU_MILLIS = 192_000  # the largest nodes this platform runs have 192 vCPUs
MAX_MEMORY_BYTES = 2 * 2**40


def _parsed(parse, value: object) -> float:
    """The quantity's number, or -1 when it is not a quantity (so the range check reports it)."""
    try:
        return parse(value)
    except ValueError:
        return -1


class Autoscaling(Section):
    """A HorizontalPodAutoscaler on CPU utilisation."""

    min_replicas: int = Field(default=2, ge=1, le=100)
    max_replicas: int = Field(default=10, ge=1, le=100)
    target_cpu_percent: int = Field(default=70, ge=10, le=100)

    @model_validator(mode="after")
    def _ordered(self):
        if self.min_replicas > self.max_replicas:
            raise bad_value("minReplicas", self.min_replicas, f"must be <= maxReplicas ({self.max_replicas})")
        return self
