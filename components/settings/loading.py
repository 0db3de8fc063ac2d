"""Read raw stack configuration (from the Pulumi runtime or a stack file) into `Settings`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import yaml
from pydantic import ValidationError

from components.settings.errors import PROJECT, SECRET_CONFIG_KEYS, SettingsError, format_validation_error
from components.settings.model import Settings

_FOREIGN_OK = ("aws:", "pulumi:", "kubernetes:", "random:", "eks:")


def parse_settings(raw: Mapping[str, Any], source: str = "stack configuration") -> Settings:
    """Validate namespaced raw config (`genai-platform:key` -> value) into `Settings`."""
    data: dict[str, Any] = {}
    unknown = []
    for full_key, value in raw.items():
        if not isinstance(full_key, str):
            unknown.append(repr(full_key))
            continue
        namespace, _, key = full_key.partition(":")
        if full_key == "aws:region":
            data["aws:region"] = value
        elif namespace == PROJECT:
            if key in SECRET_CONFIG_KEYS:
                data["hfTokenSet"] = value not in (None, "")
            else:
                data[key] = _decode(value)
        elif not full_key.startswith(_FOREIGN_OK):
            unknown.append(full_key)
    if unknown:
        raise SettingsError(
            f"Invalid stack configuration in {source}:\n"
            + "\n".join(f"  {k}: unknown namespace; settings of this project are '{PROJECT}:<key>'" for k in unknown)
        )
    try:
        return Settings.model_validate(data)
    except ValidationError as err:
        raise SettingsError(format_validation_error(err, source)) from None


def _decode(value: Any) -> Any:
    """Runtime config values are strings; objects and lists arrive JSON-encoded."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def read_stack_file(path: Path) -> tuple[dict[str, Any], set[str]]:
    """The `config:` block of a stack file and the keys whose values are `secure:`."""
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise SettingsError(f"Stack file {path} not found; create it with `pulumi stack init`.") from None
    except yaml.YAMLError as err:
        raise SettingsError(f"Stack file {path} is not valid YAML: {err}") from None
    if not isinstance(document, dict):
        raise SettingsError(f"Stack file {path} must be a YAML mapping with a `config:` block, like Pulumi.dev.yaml.")
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise SettingsError(f"Stack file {path}: `config` must be a mapping of keys to values.")
    secret = {k for k, v in config.items() if isinstance(v, dict) and set(v) == {"secure"}}
    return config, secret


def load_stack_settings(stack: str, project_dir: Path = Path(".")) -> Settings:
    """Settings for `Pulumi.<stack>.yaml` in `project_dir`, without the Pulumi engine."""
    path = Path(project_dir) / f"Pulumi.{stack}.yaml"
    config, _ = read_stack_file(path)
    return parse_settings(config, path.name)


def load_settings_from_runtime() -> Settings:
    """Settings from the running Pulumi program's configuration (what `pulumi up` passes in)."""
    from pulumi.runtime import config as runtime_config  # noqa: PLC0415 - runtime-only import

    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    import pulumi  # noqa: PLC0415

    return parse_settings(raw, f"Pulumi.{pulumi.get_stack()}.yaml")
