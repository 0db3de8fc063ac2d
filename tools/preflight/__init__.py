"""Read-only AWS preflight checks for a stack, run before its first `pulumi up`.

    python -m tools.preflight <stack> [--project-dir DIR]

See `checks` for what is checked (one module per area: `identity`, `endpoint`, `neuron`, `bedrock`, `eks`),
`context` for what a check is given and `report` for the output format.
"""

from .checks import run_checks
from .context import Clients, PreflightTarget, target_from_settings
from .report import CheckResult

__all__ = ["CheckResult", "Clients", "PreflightTarget", "run_checks", "target_from_settings"]
