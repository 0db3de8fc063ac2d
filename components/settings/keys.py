"""The valid keys at each place in the settings, for naming the one an unknown key was meant to be."""

from __future__ import annotations

import difflib
import typing
from dataclasses import dataclass
from typing import Any, Iterable, Optional

from pydantic import BaseModel

# Top-level keys read as secrets (`pulumi config set --secret`): never in plain text, never echoed.
SECRET_CONFIG_KEYS = ("hfToken", "ssoClientSecret", "alertWebhookUrl")
# What a secret's decrypted value must start with, checked where the program sees the value (not in a stack file)
SECRET_PREFIXES = {"alertWebhookUrl": ("https://", "an https:// URL (alerts leave the cluster)")}


@dataclass(frozen=True)
class Suggestion:
    """The closest valid key and the shape of its value: `list`, `section` (a model) or `value`."""

    key: str
    shape: str


def closest_key(root: type[BaseModel], loc: Iterable[Any]) -> Optional[Suggestion]:
    """The valid key nearest to the last part of `loc`, among the keys of the model that holds it."""
    *parent, unknown = list(loc)
    model = _model_at(root, parent)
    if model is None or not isinstance(unknown, str):
        return None
    keys = {_key(name, field): field.annotation for name, field in model.model_fields.items() if not field.exclude}
    keys = {key: ann for key, ann in keys.items() if ":" not in key}  # aws:region is not a genai-platform key
    if model is root:
        keys.update({key: str for key in SECRET_CONFIG_KEYS})
    # compared case-insensitively: instancetypes and InstanceTypes are both instanceTypes
    by_lower = {key.lower(): key for key in keys}
    match = difflib.get_close_matches(unknown.lower(), list(by_lower), n=1, cutoff=0.6)
    if not match:
        return None
    key = by_lower[match[0]]
    return Suggestion(key, _shape(keys[key]))


def _key(name: str, field) -> str:
    return field.alias or name


def _model_at(root: type[BaseModel], loc: list[Any]) -> Optional[type[BaseModel]]:
    """The model class whose keys sit at `loc` (through sections, list items and map values)."""
    annotation: Any = root
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields = {_key(name, f): f for name, f in annotation.model_fields.items()}
            fields.update(annotation.model_fields)  # snake_case names are accepted too
            if part not in fields:
                return None
            annotation = fields[part].annotation
        elif typing.get_origin(annotation) is list and isinstance(part, int):
            annotation = typing.get_args(annotation)[0]
        elif typing.get_origin(annotation) is dict:
            annotation = typing.get_args(annotation)[1]
        else:
            return None
    annotation = _unwrap(annotation)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    """`Optional[X]` -> `X` (settings use no other unions)."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is typing.Union and len(args) == 1:
        return args[0]
    return annotation


def _shape(annotation: Any) -> str:
    annotation = _unwrap(annotation)
    if typing.get_origin(annotation) is list:
        return "list"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "section"
    return "value"
