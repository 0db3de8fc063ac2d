"""Settings mistakes a user makes while typing a stack file: plain-text secrets, misspelled keys,
colliding model slugs and numbers YAML read from unquoted versions. Each one names the key, the
value as written (secrets masked) and the command that fixes it."""

from __future__ import annotations

import contextvars
import json
import re
import typing
from pathlib import Path

import pulumi
import pytest
from pulumi.runtime import config as runtime_config
from pydantic import BaseModel

from components import catalog
from components.settings import Settings, SettingsError, load_settings_from_runtime, load_stack_settings, parse_settings
from components.settings.errors import SECRET_CONFIG_KEYS
from components.settings.keys import closest_key
from tools.offline.engine import run_stack

BASE = {"aws:region": "us-east-1", "genai-platform:hfToken": "hf_x"}
LLAMA = {"hfModelId": "meta-llama/Llama-3.2-1B-Instruct", "minReplicas": 0}
TOKEN = "hf_RealLookingToken0123456789abcdef"
SECURE_TOKEN = "genai-platform:hfToken:\n    secure: v1:AAAAencrypted\n"


def stack_file(tmp_path: Path, body: str, stack: str = "typo") -> Path:
    """A stack file with the usual region and `body` (indented config lines) under `config:`."""
    path = tmp_path / f"Pulumi.{stack}.yaml"
    path.write_text(f"config:\n  aws:region: us-east-1\n  {body}")
    return path


def problem(message: str, key: str) -> str:
    """The one line of `message` about `key`."""
    lines = [line for line in message.splitlines() if line.strip().startswith(f"{key} = ")]
    assert len(lines) == 1, message
    return lines[0]


# --- 15: a secret written in plain text -------------------------------------------------------------

def test_plain_text_token_in_a_stack_file_is_rejected_and_masked(tmp_path):
    stack_file(tmp_path, f"genai-platform:hfToken: {TOKEN}\n")
    with pytest.raises(SettingsError) as err:
        load_stack_settings("typo", tmp_path)
    line = problem(str(err.value), "genai-platform:hfToken")
    assert "Fix: pulumi config set --secret hfToken <value>" in line
    assert "<hidden>" in line
    assert TOKEN not in str(err.value) and TOKEN[:8] not in str(err.value)


def test_encrypted_token_in_a_stack_file_is_accepted(tmp_path):
    stack_file(tmp_path, SECURE_TOKEN)
    assert load_stack_settings("typo", tmp_path).hf_token_set


def test_plain_text_token_stops_the_program_under_the_engine(tmp_path):
    """The runtime path: the engine hands the program the stack file's secret keys (set_all_config)."""
    path = stack_file(tmp_path, f"genai-platform:hfToken: {TOKEN}\n", stack="dev")
    with pytest.raises(pulumi.RunError) as err:
        run_stack("dev", stack_file=path)
    assert "genai-platform:hfToken = <hidden>" in str(err.value)
    assert "pulumi config set --secret hfToken" in str(err.value)
    assert TOKEN not in str(err.value)


@pytest.mark.parametrize("secret_keys,accepted", [(["genai-platform:hfToken"], True), ([], False)],
                         ids=["listed-secret", "plain"])
def test_runtime_reads_secret_keys_the_cli_passes(monkeypatch, secret_keys, accepted):
    """Under `pulumi up` the language host passes config in PULUMI_CONFIG and the secret keys in
    PULUMI_CONFIG_SECRET_KEYS (pulumi-language-python main.go, constructConfigSecretKeys)."""
    config = {"aws:region": "us-east-1", "genai-platform:hfToken": TOKEN}
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(config))
    monkeypatch.setenv("PULUMI_CONFIG_SECRET_KEYS", json.dumps(secret_keys))

    def load():
        runtime_config.set_all_config({}, [])  # nothing set in-process: only the environment speaks
        return load_settings_from_runtime()

    if accepted:
        assert contextvars.copy_context().run(load).hf_token_set
    else:
        with pytest.raises(SettingsError, match=r"genai-platform:hfToken = <hidden>") as err:
            contextvars.copy_context().run(load)
        assert TOKEN not in str(err.value)


def test_every_secret_key_has_a_settings_flag():
    """A key added to SECRET_CONFIG_KEYS is checked like hfToken; the loader records it as `<key>Set`."""
    aliases = {f.alias for f in Settings.model_fields.values() if f.exclude}
    assert SECRET_CONFIG_KEYS and {f"{key}Set" for key in SECRET_CONFIG_KEYS} <= aliases


def test_misspelled_secret_key_is_masked_and_points_at_the_secret():
    with pytest.raises(SettingsError) as err:
        parse_settings({**BASE, "genai-platform:hftoken": TOKEN})
    line = problem(str(err.value), "genai-platform:hftoken")
    assert "the closest valid key is genai-platform:hfToken" in line
    assert "pulumi config set --secret hfToken <value>" in line
    assert TOKEN not in str(err.value)


# --- 16: an unknown key names the closest valid one -------------------------------------------------

UNKNOWN_KEYS = [
    ("neuron-section", {"genai-platform:neuron": {"instanceType": "inf2.xlarge"}},
     "genai-platform:neuron.instanceType = 'inf2.xlarge'", "genai-platform:neuron.instanceTypes",
     "pulumi config rm --path 'neuron.instanceType'; pulumi config set --path 'neuron.instanceTypes[0]' <value>"),
    ("top-level", {"genai-platform:nueron": {"minSize": 0}},
     "genai-platform:nueron = {'minSize': 0}", "genai-platform:neuron",
     "pulumi config rm --path 'nueron'; pulumi config set --path 'neuron.<key>' <value>"),
    ("nested-section", {"genai-platform:cluster": {"systemNodes": {"desiredsize": 2}}},
     "genai-platform:cluster.systemNodes.desiredsize = 2", "genai-platform:cluster.systemNodes.desiredSize",
     "pulumi config set --path 'cluster.systemNodes.desiredSize' <value>"),
    ("list-item", {"genai-platform:models": [{**LLAMA, "name": "a", "hfModelID": "x/y"}]},
     "genai-platform:models[0].hfModelID = 'x/y'", "genai-platform:models[0].hfModelId",
     "pulumi config set --path 'models[0].hfModelId' <value>"),
    ("optional-section", {"genai-platform:gateway": {"autoscaling": {"maxReplica": 4}}},
     "genai-platform:gateway.autoscaling.maxReplica = 4", "genai-platform:gateway.autoscaling.maxReplicas",
     "pulumi config set --path 'gateway.autoscaling.maxReplicas' <value>"),
]


@pytest.mark.parametrize("overrides,shown,closest,fix", [c[1:] for c in UNKNOWN_KEYS], ids=[c[0] for c in UNKNOWN_KEYS])
def test_unknown_key_names_the_closest_valid_key(overrides, shown, closest, fix):
    with pytest.raises(SettingsError) as err:
        parse_settings({**BASE, **overrides})
    line = problem(str(err.value), shown.split(" = ")[0])
    assert line.startswith(f"  {shown}: unknown setting; the closest valid key is {closest}. Fix: ")
    assert fix in line


def test_unknown_key_unlike_any_other_keeps_the_plain_message():
    with pytest.raises(SettingsError) as err:
        parse_settings({**BASE, "genai-platform:neuron": {"zzzzqqq": 1}})
    assert "neuron.zzzzqqq = 1: unknown setting (check the spelling" in str(err.value)
    assert "closest" not in str(err.value)


def test_misspelled_namespace_names_the_project_key():
    with pytest.raises(SettingsError, match=re.escape(
        "genai-platfrom:environment: unknown namespace; settings of this project are 'genai-platform:<key>' "
        "(did you mean genai-platform:environment?)"
    )):
        parse_settings({**BASE, "genai-platfrom:environment": "dev"})


def _sections(model, loc=()):
    """(loc, section model) for every settings section reachable from `model` (list items at [0])."""
    yield loc, model
    for name, field in model.model_fields.items():
        annotation, step = field.annotation, (field.alias or name,)
        for _ in range(2):  # Optional[...] and list[...]
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if typing.get_origin(annotation) is list:
                annotation, step = args[0], step + (0,)
            elif len(args) == 1:
                annotation = args[0]
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from _sections(annotation, loc + step)


def _transpose(key: str) -> str:
    """A typo: two neighbouring letters swapped (neuron -> nueron)."""
    i = max(1, len(key) // 2 - 1)
    return key[:i] + key[i + 1] + key[i] + key[i + 2:]


def test_every_key_of_every_section_is_found_from_a_typo():
    sections = list(_sections(Settings))
    assert len(sections) > 15  # root, network, cluster, systemNodes, neuron, models[0], resources, ...
    checked = 0
    for loc, model in sections:
        for name, field in model.model_fields.items():
            key = field.alias or name
            if field.exclude or ":" in key or len(key) < 4 or _transpose(key) == key:
                continue
            suggestion = closest_key(Settings, [*loc, _transpose(key)])
            assert suggestion is not None and suggestion.key == key, (loc, key, _transpose(key), suggestion)
            checked += 1
    assert checked > 60


# --- 17: duplicate slugs are reported at slug, as written --------------------------------------------

SLUG_CASES = [
    ("both-set", [{**LLAMA, "name": "a", "slug": "llama"}, {**LLAMA, "name": "b", "slug": "llama"}],
     "genai-platform:models[1].slug = 'llama'", "models[0] sets the same slug"),
    ("set-meets-derived", [{**LLAMA, "name": "llama-3"}, {**LLAMA, "name": "b", "slug": "llama-3"}],
     "genai-platform:models[1].slug = 'llama-3'", "models[0] derives the same slug from its name 'llama-3'"),
    ("both-derived", [{**LLAMA, "name": "Llama 3"}, {**LLAMA, "name": "llama-3"}],
     "genai-platform:models[1].slug = <not set>",
     "derived from the name 'llama-3' it would be 'llama-3', and models[0] derives the same slug from its name 'Llama 3'"),
    ("invalid-as-written", [{**LLAMA, "name": "a", "slug": "Llama_3"}],
     "genai-platform:models[0].slug = 'Llama_3'", "the Service is vllm-<slug>"),
    ("too-long-as-written", [{**LLAMA, "name": "a", "slug": "x" * 59}],
     f"genai-platform:models[0].slug = '{'x' * 59}'", "at most 58 characters"),
]


@pytest.mark.parametrize("models,shown,allowed", [c[1:] for c in SLUG_CASES], ids=[c[0] for c in SLUG_CASES])
def test_slug_problems_name_the_slug_key_and_the_written_value(models, shown, allowed):
    with pytest.raises(SettingsError) as err:
        parse_settings({**BASE, "genai-platform:models": models})
    line = problem(str(err.value), shown.split(" = ")[0])
    assert line.startswith(f"  {shown}: ")
    assert allowed in line
    assert "vllm-Llama_3" not in line and ".name" not in line


def test_duplicate_model_names_are_still_reported_at_name():
    with pytest.raises(SettingsError, match=re.escape("genai-platform:models[1].name = 'a': unique across models")):
        parse_settings({**BASE, "genai-platform:models": [{**LLAMA, "name": "a"}, {**LLAMA, "name": "a", "slug": "b"}]})


# --- 18: unquoted versions and other numbers in string settings ---------------------------------------

def test_unquoted_eks_version_says_to_quote_it(tmp_path):
    stack_file(tmp_path, SECURE_TOKEN + "  genai-platform:cluster:\n    version: 1.30\n")
    with pytest.raises(SettingsError) as err:
        load_stack_settings("typo", tmp_path)
    line = problem(str(err.value), "genai-platform:cluster.version")
    assert line.startswith("  genai-platform:cluster.version = 1.3: ")
    assert 'write version: "1.30"' in line
    assert f"use one of {', '.join(catalog.SUPPORTED_EKS_VERSIONS)}" in line


def test_unquoted_supported_version_names_it_in_the_fix(tmp_path, monkeypatch):
    """When the intended version is supported (a future 1.40 read as 1.4) the fix sets exactly it."""
    monkeypatch.setattr(catalog, "SUPPORTED_EKS_VERSIONS", ("1.35", "1.40"))
    stack_file(tmp_path, SECURE_TOKEN + "  genai-platform:cluster:\n    version: 1.40\n")
    with pytest.raises(SettingsError) as err:
        load_stack_settings("typo", tmp_path)
    line = problem(str(err.value), "genai-platform:cluster.version")
    assert 'write version: "1.40"' in line and "not supported" not in line
    assert line.endswith("Fix: pulumi config set --path 'cluster.version' 1.40")


def test_unquoted_version_that_reads_back_unchanged_is_accepted(tmp_path):
    stack_file(tmp_path, SECURE_TOKEN + "  genai-platform:cluster:\n    version: 1.35\n")
    assert load_stack_settings("typo", tmp_path).cluster.version == "1.35"


def test_unquoted_version_stops_the_program_under_the_engine(tmp_path):
    path = stack_file(tmp_path, SECURE_TOKEN + "  genai-platform:cluster:\n    version: 1.30\n", stack="dev")
    with pytest.raises(pulumi.RunError, match=re.escape('write version: "1.30"')):
        run_stack("dev", stack_file=path)


@pytest.mark.parametrize("body,key,hint,fix", [
    ("  genai-platform:cluster:\n    addonVersions:\n      vpc-cni: 1.20\n",
     'genai-platform:cluster.addonVersions["vpc-cni"]', 'write vpc-cni: "1.20"',
     """pulumi config set --path 'cluster.addonVersions["vpc-cni"]' 1.20"""),
    ("  genai-platform:cluster:\n    addonVersions:\n      coredns: 120\n",
     'genai-platform:cluster.addonVersions.coredns', 'write coredns: "120"',
     "pulumi config set --path 'cluster.addonVersions.coredns' --type string 120"),
], ids=["float-in-a-version-map", "integer-in-a-string-map"])
def test_numbers_in_string_settings_say_to_quote_them(tmp_path, body, key, hint, fix):
    stack_file(tmp_path, SECURE_TOKEN + body)
    with pytest.raises(SettingsError) as err:
        load_stack_settings("typo", tmp_path)
    line = problem(str(err.value), key)
    assert hint in line and line.endswith(f"Fix: {fix}")
