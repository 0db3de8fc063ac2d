"""Read raw stack configuration (from the Pulumi runtime or a stack file) into `Settings`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Collection, Mapping, Optional

import yaml
from pydantic import ValidationError

from components.settings.errors import (
    PROJECT,
    SECRET_CONFIG_KEYS,
    SettingsError,
    header,
    plain_secret_line,
    secret_shape_line,
    unknown_namespace_line,
    validation_lines,
)
from components.settings.keys import SECRET_PREFIXES
from components.settings.model import Settings

_FOREIGN_OK = ("aws:", "pulumi:", "kubernetes:", "random:", "eks:")


def parse_settings(
    raw: Mapping[str, Any], source: str = "stack configuration", secret_keys: Optional[Collection[str]] = None
) -> Settings:
    """Validate namespaced raw config (`genai-platform:key` -> value) into `Settings`.

    `secret_keys` are the full keys whose values were stored encrypted; a key of
    `SECRET_CONFIG_KEYS` outside them is a plain-text secret and an error. `None`: the caller
    cannot tell (an in-memory dict), so that check is skipped.
    """
    data: dict[str, Any] = {}
    problems = []
    for full_key, value in raw.items():
        if not isinstance(full_key, str):
            problems.append(unknown_namespace_line(repr(full_key)))
            continue
        namespace, _, key = full_key.partition(":")
        if full_key == "aws:region":
            data["aws:region"] = value
        elif namespace == PROJECT:
            if key in SECRET_CONFIG_KEYS:
                data[f"{key}Set"] = value not in (None, "")
                if value not in (None, "") and secret_keys is not None and full_key not in secret_keys:
                    problems.append(plain_secret_line(key))
                prefix, shape = SECRET_PREFIXES.get(key, ("", ""))
                if isinstance(value, str) and value and not value.startswith(prefix):  # a stack file holds {secure: ...}
                    problems.append(secret_shape_line(key, shape))
            else:
                data[key] = _decode(value)
        elif not full_key.startswith(_FOREIGN_OK):
            problems.append(unknown_namespace_line(full_key))
    settings = None
    try:
        settings = Settings.model_validate(data)
    except ValidationError as err:
        problems += validation_lines(err, Settings)
    if problems:
        raise SettingsError("\n".join([header(source), *problems]))
    return settings


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
    config, secret_keys = read_stack_file(path)
    return parse_settings(config, path.name, secret_keys)


def runtime_secret_keys(keys: Collection[str]) -> set[str]:
    """Which of `keys` the Pulumi engine passed as secrets.

    Under the CLI the Python language host sets PULUMI_CONFIG_SECRET_KEYS (a JSON list of full
    keys) and the exec shim hands it to `set_all_config`; the Automation API and mocks call
    `set_all_config(config, secret_keys)` directly. `is_config_secret` reads the latter, so both
    are consulted (pulumi/pulumi sdk/python/cmd/pulumi-language-python/main.go
    `constructConfigSecretKeys`, sdk/python/cmd/pulumi-language-python-exec; pulumi SDK 3.272.0
    pulumi/runtime/config.py `get_config_secret_keys_env`, `is_config_secret`).
    """
    from pulumi.runtime import config as runtime_config  # noqa: PLC0415 - runtime-only import

    return set(runtime_config.get_config_secret_keys_env()) | {k for k in keys if runtime_config.is_config_secret(k)}


def load_settings_from_runtime() -> Settings:
    """Settings from the running Pulumi program's configuration (what `pulumi up` passes in)."""
    import pulumi  # noqa: PLC0415 - runtime-only import
    from pulumi.runtime import config as runtime_config  # noqa: PLC0415

    raw = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    return parse_settings(raw, f"Pulumi.{pulumi.get_stack()}.yaml", runtime_secret_keys(raw))
