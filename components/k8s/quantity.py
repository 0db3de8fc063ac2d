"""Kubernetes resource quantities (the CPU and memory forms the settings accept), as numbers."""

from __future__ import annotations

import re

_CPU = re.compile(r"^(\d+(?:\.\d{1,3})?|\d+m)$")
_MEMORY = re.compile(r"^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$")
_MEMORY_FACTOR = {None: 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
                  "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def cpu_millis(quantity: str) -> int:
    """`"500m"` -> 500, `"2"` -> 2000, `"0.25"` -> 250; ValueError for anything else."""
    if not isinstance(quantity, str) or not _CPU.match(quantity):
        raise ValueError(f"not a CPU quantity: {quantity!r}")
    return int(quantity[:-1]) if quantity.endswith("m") else round(float(quantity) * 1000)


def memory_bytes(quantity: str) -> int:
    """`"512Mi"` -> 536870912, `"1G"` -> 10**9; ValueError for anything else."""
    match = _MEMORY.match(quantity) if isinstance(quantity, str) else None
    if not match:
        raise ValueError(f"not a memory quantity: {quantity!r}")
    return round(float(match.group(1)) * _MEMORY_FACTOR[match.group(2)])
