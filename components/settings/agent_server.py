"""Settings of the platform's own agent server (agent_server/), and the keys it retired."""

from __future__ import annotations

import re
from typing import Optional

from pydantic import Field, model_validator

from components.settings.errors import bad_value
from components.settings.infra import Section
from components.settings.workload import Autoscaling, PinnedImage, Resources

# Keys of the former Pipelines-based agent server: what replaces each one
RETIRED_AGENT_SERVER_KEYS = {
    "args": "the entrypoint is fixed (python -m agent_server): to change the server, build an image from "
            "agent_server/ and set agentServer.image",
    "env": "the platform wires its environment (agent_server/README.md): use agentServer.model and "
           "agentServer.historyRuns",
    "containerPort": "the server listens on 5000 behind Service custom-server:5000 (nothing to set)",
    "healthPath": "the probes use the server's /health (liveness) and /ready (readiness) (nothing to set)",
    "apiKeyEnv": "the server reads its generated API key from AGENT_SERVER_API_KEY (nothing to set)",
}


class AgentServerSettings(Section):
    """The platform's own agent server (agent_server/): built into the stack's ECR repository unless
    `image` names a prebuilt one."""

    image: Optional[PinnedImage] = None
    replicas: int = Field(default=2, ge=1, le=100)
    autoscaling: Optional[Autoscaling] = Autoscaling(min_replicas=2, max_replicas=6)
    resources: Resources = Resources(cpu="250m", memory="512Mi", memory_limit="1Gi")
    model: Optional[str] = None  # the gateway model the agents think with (default: the gateway's first)
    history_runs: int = Field(default=20, ge=1, le=500)

    @model_validator(mode="before")
    @classmethod
    def _retired_keys(cls, data):
        if isinstance(data, dict):
            for key, replacement in RETIRED_AGENT_SERVER_KEYS.items():
                snake = re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), key)
                for written in dict.fromkeys((key, snake)):
                    if written in data:
                        raise bad_value(
                            (written,), "<hidden>" if written == "env" else data[written],
                            "no longer a setting: the Open WebUI Pipelines server it configured is replaced by the "
                            f"platform's own agent server; {replacement}",
                            fix=f"pulumi config rm --path 'agentServer.{written}'",
                        )
        return data

    @property
    def builds_image(self) -> bool:
        """Whether the stack builds agent_server/ itself (no `image` set)."""
        return self.image is None

    @property
    def starting_replicas(self) -> int:
        """The pods it runs without load: the autoscaler's minimum, else `replicas`."""
        return self.autoscaling.min_replicas if self.autoscaling else self.replicas
