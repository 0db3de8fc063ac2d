"""CrossGuard entry point: constructs the PolicyPack, which starts the analyzer's gRPC server.

Run by the Pulumi CLI (`pulumi preview --policy-pack policies`). Never import this module from
tests or tools: use `genai_policies.pack.policies()` / `policies.offline` instead.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from genai_policies.pack import (  # noqa: E402
    PACK_DESCRIPTION,
    PACK_ENFORCEMENT_LEVEL,
    PACK_NAME,
    policies,
)
from pulumi_policy import PolicyPack  # noqa: E402

PolicyPack(
    name=PACK_NAME,
    description=PACK_DESCRIPTION,
    enforcement_level=PACK_ENFORCEMENT_LEVEL,
    policies=policies(),
)
