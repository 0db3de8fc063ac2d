"""Gateway cost and access settings: the economy switch, model groups, tier aliases, client limits.

The seed page's `model_tiers` / `routing_rules` are not LiteLLM settings. What they want is built
from real LiteLLM features (checked in litellm 1.106.2):

- `economy`: `router_settings.provider_budget_config.bedrock` (`budget_limit`, `time_period`;
  litellm/router_strategy/budget_limiter.py). Spend is counted per period in Redis, so every
  gateway replica agrees; past the limit Bedrock deployments are filtered out until the period
  (the Redis key's TTL) ends.
- `modelGroups`: a group name served by a Bedrock model, with the self-hosted model as its
  fallback: over budget (or on any Bedrock error) its traffic moves to the self-hosted model.
- `aliases`: `router_settings.model_group_alias` (tier names such as `fast` / `economy`).
- `clients`: the limits of each client's own LiteLLM key (`/key/generate` fields).

`resolve_routing(settings)` fills the defaults that depend on other sections and validates the
references, with errors naming the config key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from pydantic import Field, field_validator

from components.settings.errors import bad_value
from components.settings.infra import Section

if TYPE_CHECKING:
    from components.settings.model import Settings

PERIOD = re.compile(r"^[1-9]\d{0,3}(s|m|h|d)$")
_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}$")


def _period(value: str) -> str:
    if not PERIOD.match(value):
        raise bad_value((), value, "a period such as 30m, 1h or 1d (a number, then s, m, h or d)")
    return value


def _model_name(value: str) -> str:
    if not _NAME.match(value):
        raise bad_value((), value, "a model name of letters, digits, '.', '_' or '-'")
    return value


class EconomySettings(Section):
    """Past `bedrockBudgetUsd` of Bedrock spend in one `period`, Bedrock is not called until the
    period ends; model groups are then served by their self-hosted model."""

    bedrock_budget_usd: float = Field(default=10.0, gt=0, le=1_000_000)
    period: str = "1h"
    model: Optional[str] = None  # the self-hosted model groups move to (default: the first one)

    @field_validator("period")
    @classmethod
    def _check_period(cls, value: str) -> str:
        return _period(value)


class ModelGroup(Section):
    """A model name clients ask for: Bedrock first, the self-hosted model when over budget."""

    name: str
    bedrock_model: str
    self_hosted_model: Optional[str] = None  # default: economy.model

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        return _model_name(value)


class ClientLimits(Section):
    """Limits of one client's key (None: no limit)."""

    rpm_limit: Optional[int] = Field(default=None, ge=1)
    tpm_limit: Optional[int] = Field(default=None, ge=1)
    max_parallel_requests: Optional[int] = Field(default=None, ge=1)
    max_budget_usd: Optional[float] = Field(default=None, gt=0)
    budget_duration: Optional[str] = None

    @field_validator("budget_duration")
    @classmethod
    def _duration(cls, value: Optional[str]) -> Optional[str]:
        return None if value is None else _period(value)


class GatewayClients(Section):
    """One LiteLLM key per client; the master key stays with administrators."""

    open_webui: ClientLimits = ClientLimits()
    agent_server: ClientLimits = ClientLimits()


@dataclass(frozen=True)
class Routing:
    """The resolved routing: what the gateway config and the preview show."""

    economy_model: Optional[str]
    budget: Optional[EconomySettings]
    groups: tuple[tuple[str, str, Optional[str]], ...]  # (name, bedrock model, self-hosted model)
    aliases: dict[str, str]


def resolve_routing(settings: Settings) -> Routing:
    """Defaults filled in and every reference checked (raises bad_value naming the key)."""
    gateway = settings.gateway
    bedrock = [m.name for m in settings.bedrock_models]
    hosted = [m.name for m in settings.models]
    economy = gateway.economy
    economy_model = None
    if economy is not None and economy.model is not None:
        if economy.model not in hosted:
            raise bad_value(("gateway", "economy", "model"), economy.model,
                            f"the name of a self-hosted model: {', '.join(hosted) or '(none configured)'}")
        economy_model = economy.model
    elif hosted:
        economy_model = hosted[0]
    if economy is not None and not (bedrock and economy_model):
        if "economy" in gateway.model_fields_set:  # the default simply stays off
            raise bad_value(("gateway", "economy"), economy.model_dump(by_alias=True),
                            "null (off) unless both bedrockModels and models are configured: "
                            "the economy switch moves Bedrock traffic to a self-hosted model")
        economy = None

    if gateway.model_groups is None:
        groups = [("chat", bedrock[0], economy_model)] if bedrock and economy_model else []
    else:
        groups = [(g.name, g.bedrock_model, g.self_hosted_model or economy_model) for g in gateway.model_groups]
    taken = set(bedrock) | set(hosted)
    for i, (name, bedrock_model, self_hosted) in enumerate(groups):
        where = ("gateway", "modelGroups", i)
        if name in taken:
            raise bad_value((*where, "name"), name, "a name no model, group or alias already has")
        taken.add(name)
        if bedrock_model not in bedrock:
            raise bad_value((*where, "bedrockModel"), bedrock_model,
                            f"the name of a Bedrock model: {', '.join(bedrock) or '(none configured)'}")
        if self_hosted is not None and self_hosted not in hosted:
            raise bad_value((*where, "selfHostedModel"), self_hosted,
                            f"the name of a self-hosted model: {', '.join(hosted) or '(none configured)'}")

    # Each deployment reaching a vLLM server gets a share of its parallel cap: at least one each
    for i, model in enumerate(settings.models):
        sharing = 1 + sum(1 for _, _, self_hosted in groups if self_hosted == model.name)
        if model.parallel_cap < sharing:
            raise bad_value(("models", i, "maxParallelRequests" if model.max_parallel_requests else "maxNumSeqs"),
                            model.parallel_cap,
                            f"at least {sharing}: the model and {sharing - 1} model group(s) share its parallel "
                            "requests, one at least each")

    if gateway.aliases is None:
        aliases = {"fast": groups[0][0]} if groups else {}
        if economy_model:
            aliases["economy"] = economy_model
    else:
        aliases = dict(gateway.aliases)
    for alias, target in aliases.items():
        if not _NAME.match(alias) or alias in taken:
            raise bad_value(("gateway", "aliases", alias), target,
                            "an alias name of letters, digits, '.', '_' or '-' that no model or group has")
        if target not in taken:
            raise bad_value(("gateway", "aliases", alias), target,
                            f"a model or group name: {', '.join(sorted(taken))}")
    return Routing(economy_model, economy, tuple(groups), aliases)
