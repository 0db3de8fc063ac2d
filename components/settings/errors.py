"""Turn validation failures into one readable message that names the config key and the fix."""

from __future__ import annotations

import difflib
import re
from typing import Any, Iterable, Optional

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError

from components.settings.keys import SECRET_CONFIG_KEYS, Suggestion, closest_key  # noqa: F401 - re-exported

PROJECT = "genai-platform"
HIDDEN = "<hidden>"
_SECRET_LIKE = re.compile(r"token|secret|password|passwd|api_?key|credential", re.IGNORECASE)


class SettingsError(Exception):
    """The stack configuration is invalid; `str()` is the message to show the user."""


def bad_value(
    path: tuple[Any, ...] | str, value: Any, allowed: str, fix_value: Optional[str] = None, fix: Optional[str] = None
) -> PydanticCustomError:
    """An error for `path` (relative to the model being validated) with the allowed values.

    Raise it from a validator: the formatter joins `path` to the model's location so the
    message names the full config key. `fix_value` replaces `<value>` in the suggested command;
    `fix` replaces the whole command (e.g. `pulumi config rm ...` for a retired key).
    """
    if isinstance(path, str):
        path = (path,)
    ctx = {"path": path, "value": value, "allowed": allowed, "fix_value": fix_value, "fix": fix}
    return PydanticCustomError("bad_value", "{allowed}", ctx)


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


def header(source: str) -> str:
    """The first line of every settings error."""
    return f"Invalid stack configuration in {source}:"


def line(key: str, shown: str, allowed: str, fix: str) -> str:
    """One problem: `  key = value: what is allowed. Fix: command`."""
    return f"  {key} = {shown}: {allowed}. Fix: {fix}"


def plain_secret_line(key: str) -> str:
    """A secret setting written in plain text (the value itself is never shown)."""
    return line(
        f"{PROJECT}:{key}", f"{HIDDEN} (plain text)",
        "a secret: set it encrypted (a plain value is stored unencrypted in the stack file and its history; "
        "rotate it if that file was shared or committed)",
        f"pulumi config set --secret {key} <value>",
    )


def secret_shape_line(key: str, allowed: str) -> str:
    """A secret setting whose decrypted value has the wrong shape (the value itself is never shown)."""
    return line(f"{PROJECT}:{key}", HIDDEN, allowed, f"pulumi config set --secret {key} <value>")


def unknown_namespace_line(full_key: Any) -> str:
    """A key outside this project's namespace (and not a provider's), with the closest project key."""
    text = f"  {full_key}: unknown namespace; settings of this project are '{PROJECT}:<key>'"
    namespace, sep, key = str(full_key).partition(":")
    if sep and difflib.get_close_matches(namespace, [PROJECT], n=1, cutoff=0.75):
        text += f" (did you mean {PROJECT}:{key}?)"
    return text


def validation_lines(err: ValidationError, root: Optional[type[BaseModel]] = None) -> list[str]:
    """One `line()` per problem in `err`; `root` (the validated model) lets unknown keys name the closest valid key."""
    lines = []
    for item in err.errors():
        loc = [p for p in item["loc"] if p != "__root__"]
        ctx = item.get("ctx") or {}
        fix, fix_value = None, "<value>"
        secret = bool(loc) and loc[0] in SECRET_CONFIG_KEYS
        if item["type"] == "bad_value":
            loc = loc + list(ctx["path"])
            secret = bool(loc) and loc[0] in SECRET_CONFIG_KEYS  # a root check may name a secret key
            value, allowed = ctx["value"], ctx["allowed"]
            fix_value = ctx.get("fix_value") or fix_value
            fix = ctx.get("fix")
        elif item["type"] == "extra_forbidden":
            suggestion = closest_key(root, loc) if root is not None else None
            value, secret = item["input"], secret or _looks_secret(loc, suggestion)
            allowed, fix = _unknown_key(loc, suggestion)
        elif item["type"] == "missing":
            value, allowed = None, "required"
        elif item["type"] == "string_type" and _is_number(item.get("input")):
            value, allowed = item["input"], quote_hint(loc[-1] if loc else "value", item["input"])
            # `config set --path` stores integers as numbers, anything else as a string (`pulumi config set` docs)
            fix_value = _as_written(value) if isinstance(value, float) else f"--type string {value}"
        else:
            value, allowed = item.get("input"), item["msg"]
        shown = "<not set>" if value is None else (HIDDEN if secret else repr(value))
        if loc and loc[0] == "aws:region":
            fix = "pulumi config set aws:region <region>"
        elif loc and loc[0] in SECRET_CONFIG_KEYS and not fix:
            fix = f"pulumi config set --secret {loc[0]} <value>"
        fix = fix or f"pulumi config set --path '{_cli_path(loc)}' {fix_value}"
        lines.append(line(config_key(loc), shown, allowed, fix))
    return lines


def _looks_secret(loc: list[Any], suggestion: Optional[Suggestion]) -> bool:
    """An unknown key whose value may be a credential (hftoken, apiToken, ...): its value is not shown."""
    near_secret = suggestion is not None and len(loc) == 1 and suggestion.key in SECRET_CONFIG_KEYS
    return near_secret or _SECRET_LIKE.search(str(loc[-1])) is not None


def _unknown_key(loc: list[Any], suggestion: Optional[Suggestion]) -> tuple[str, str]:
    """What to say about an unknown key at `loc`, and the command that fixes it."""
    remove = f"pulumi config rm --path '{_cli_path(loc)}'"
    if suggestion is None:
        return "unknown setting (check the spelling against README's settings table)", remove
    target = loc[:-1] + [suggestion.key]
    allowed = f"unknown setting; the closest valid key is {config_key(target)}"
    if suggestion.key in SECRET_CONFIG_KEYS:
        return allowed, f"{remove}; pulumi config set --secret {suggestion.key} <value>"
    set_path = _cli_path(target) + {"list": "[0]", "section": ".<key>"}.get(suggestion.shape, "")
    return allowed, f"{remove}; pulumi config set --path '{set_path}' <value>"


def unquoted_version(number: float, supported: Iterable[str]) -> PydanticCustomError:
    """A version that YAML read as a number (`version: 1.30` is 1.3): quote it, and name a supported one."""
    supported, written = list(supported), _as_written(number)
    allowed = quote_hint("version", number)
    if written not in supported:
        allowed += f" ({written} is not supported either: use one of {', '.join(supported)})"
    return bad_value((), number, allowed, fix_value=written if written in supported else supported[-1])


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def quote_hint(name: Any, number: int | float) -> str:
    """What to say about a string setting that YAML read as a number."""
    written = _as_written(number)
    if isinstance(number, float) and written != repr(number):
        return (f"a string, but YAML reads an unquoted {written} as the number {number!r} (a trailing zero "
                f'is lost); quote it: write {name}: "{written}"')
    return f'a string, but YAML reads an unquoted {written} as a number; quote it: write {name}: "{written}"'


def _as_written(number: int | float) -> str:
    """How the user most likely wrote `number`: one decimal place (1.3) was two (1.30), as in versions."""
    text = repr(number)
    return f"{number:.2f}" if isinstance(number, float) and re.fullmatch(r"\d+\.\d", text) else text
