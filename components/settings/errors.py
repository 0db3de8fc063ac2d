"""Turn validation failures into one readable message that names the config key and the fix."""

from __future__ import annotations

import re
from typing import Any, Iterable

from pydantic import ValidationError
from pydantic_core import PydanticCustomError

PROJECT = "genai-platform"
SECRET_CONFIG_KEYS = ("hfToken",)


class SettingsError(Exception):
    """The stack configuration is invalid; `str()` is the message to show the user."""


def bad_value(path: tuple[Any, ...] | str, value: Any, allowed: str) -> PydanticCustomError:
    """An error for `path` (relative to the model being validated) with the allowed values.

    Raise it from a validator: the formatter joins `path` to the model's location so the
    message names the full config key.
    """
    if isinstance(path, str):
        path = (path,)
    return PydanticCustomError("bad_value", "{allowed}", {"path": path, "value": value, "allowed": allowed})


def config_key(loc: Iterable[Any]) -> str:
    """`("neuron", "instanceTypes", 0)` -> `genai-platform:neuron.instanceTypes[0]`."""
    parts = list(loc)
    if not parts:
        return f"{PROJECT}:<root>"
    if parts[0] == "aws:region":
        return "aws:region"
    key = f"{PROJECT}:{parts[0]}"
    for part in parts[1:]:
        if isinstance(part, int):
            key += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(part)):
            key += f".{part}"
        else:  # map keys such as instance types: pulumi config --path syntax
            key += f'["{part}"]'
    return key


def _cli_path(loc: list[Any]) -> str:
    return config_key(loc).split(":", 1)[1]


def format_validation_error(err: ValidationError, source: str) -> str:
    """Render every problem in `err` as `key = value: what is allowed. Fix: ...`."""
    lines = [f"Invalid stack configuration in {source}:"]
    for item in err.errors():
        loc = [p for p in item["loc"] if p != "__root__"]
        ctx = item.get("ctx") or {}
        if item["type"] == "bad_value":
            loc = loc + list(ctx["path"])
            value, allowed = ctx["value"], ctx["allowed"]
        elif item["type"] == "extra_forbidden":
            value, allowed = item["input"], "unknown setting (check the spelling against README's settings table)"
        elif item["type"] == "missing":
            value, allowed = None, "required"
        else:
            value, allowed = item.get("input"), item["msg"]
        key = config_key(loc)
        shown = "<not set>" if value is None else repr(value)
        fix = (
            f"pulumi config rm --path '{_cli_path(loc)}'"
            if item["type"] == "extra_forbidden"
            else f"pulumi config set --path '{_cli_path(loc)}' <value>"
        )
        if loc and loc[0] == "aws:region":
            fix = "pulumi config set aws:region <region>"
        elif loc and loc[0] in SECRET_CONFIG_KEYS:
            fix = f"pulumi config set --secret {loc[0]} <value>"
        lines.append(f"  {key} = {shown}: {allowed}. Fix: {fix}")
    return "\n".join(lines)
