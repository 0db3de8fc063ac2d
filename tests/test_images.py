"""Pinned images with a public trace: the Neuron device plugin tag must be one with recorded evidence,
from the same Neuron SDK release as the vLLM image."""

from __future__ import annotations

import re

from components import images


def _tag(image: str) -> str:
    return image.rsplit(":", 1)[1]


def test_device_plugin_tag_has_recorded_public_evidence():
    """A bump to a tag nobody has published (2.29.149.0 was one) fails here until its source is recorded."""
    assert _tag(images.NEURON_DEVICE_PLUGIN) in images.NEURON_DEVICE_PLUGIN_EVIDENCE


def test_device_plugin_is_from_the_vllm_images_neuron_sdk_release():
    """Bumping vLLM to another SDK without the device plugin (or back) fails here."""
    vllm_sdk = re.search(r"-sdk(\d+\.\d+)\.", _tag(images.VLLM_NEURON)).group(1)
    sdk, _ = images.NEURON_DEVICE_PLUGIN_EVIDENCE[_tag(images.NEURON_DEVICE_PLUGIN)]
    assert sdk == vllm_sdk, f"device plugin from SDK {sdk}, vLLM image from SDK {vllm_sdk}"


def test_evidence_rows_are_real_tags_with_a_source():
    for tag, (sdk, source) in images.NEURON_DEVICE_PLUGIN_EVIDENCE.items():
        assert re.fullmatch(r"2\.\d+\.\d+\.\d+", tag), tag
        assert sdk is None or tag.startswith(f"{sdk}."), (tag, sdk)
        assert len(source) > 20, tag


def test_the_daemonset_runs_the_pinned_plugin(stack_run):
    (daemonset,) = [d for d in stack_run.of_type("kubernetes:apps/v1:DaemonSet")
                    if d.inputs["metadata"]["name"] == "neuron-device-plugin"]
    (container,) = daemonset.inputs["spec"]["template"]["spec"]["containers"]
    assert container["image"] == images.NEURON_DEVICE_PLUGIN
