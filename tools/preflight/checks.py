"""The preflight checks in the order they run, and `run_checks`.

Each check takes a `PreflightTarget` and a `Clients` (see `context`) and returns a list of
`CheckResult`s. Only Describe*/Get*/List* operations are called: nothing in the account changes.
The checks live by area: `identity` (credentials), `endpoint` (this machine can reach the Kubernetes
API), `neuron` (capacity and quota), `bedrock` (models) and `eks` (Kubernetes version). `endpoint`
also reads this machine's public IP address (`Clients.egress_ip`), outside AWS.
"""

from __future__ import annotations

from collections.abc import Callable

from .bedrock import check_bedrock_models
from .context import Clients, PreflightTarget
from .eks import check_eks_version
from .endpoint import check_api_endpoint
from .identity import identity_result
from .neuron import check_neuron_capacity, check_neuron_quota
from .report import AWS_ERRORS, CheckResult, result_from_aws_error


CHECKS: tuple[Callable[[PreflightTarget, Clients], list[CheckResult]], ...] = (
    check_api_endpoint,
    check_neuron_capacity,
    check_neuron_quota,
    check_bedrock_models,
    check_eks_version,
)


def run_checks(target: PreflightTarget, clients: Clients) -> list[CheckResult]:
    """Credentials first; if AWS cannot be called at all, the others are reported as not run."""
    try:
        results = [identity_result(target, clients)]
    except AWS_ERRORS as exc:
        return [result_from_aws_error("credentials", "sts", exc)] + [
            CheckResult(check.__name__.removeprefix("check_").replace("_", "-"), False,
                        "not run: AWS credentials are not usable", "fix the credentials check first")
            for check in CHECKS
        ]
    for check in CHECKS:
        results += check(target, clients)
    return results
