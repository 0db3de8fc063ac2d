"""The whole stack configuration as validated pydantic models, loaded once per program run.

`load_settings_from_runtime()` is what `__main__.py` calls under `pulumi up`;
`load_stack_settings()` reads a `Pulumi.<stack>.yaml` directly (preview, preflight, tests).
Both raise `SettingsError` with a message naming each bad key, its value and what is allowed.
"""

from components.settings.errors import PROJECT, SettingsError
from components.settings.loading import load_settings_from_runtime, load_stack_settings, parse_settings
from components.settings.model import Settings

__all__ = [
    "PROJECT",
    "Settings",
    "SettingsError",
    "load_settings_from_runtime",
    "load_stack_settings",
    "parse_settings",
]
