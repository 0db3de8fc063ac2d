"""vLLM on Neuron writes its caches to mounted writable volumes: the root filesystem is read-only, so
the Neuron compiler's default cache (/var/tmp/neuron-compile-cache) would fail to be written."""

from __future__ import annotations

import posixpath

from components.settings import load_stack_settings
from rendered import env, workload

NEURON_COMPILER_DEFAULT_CACHE = "/var/tmp/neuron-compile-cache"
WRITABLE_SOURCES = ("persistentVolumeClaim", "emptyDir")


def writable_mount_for(pod: dict, path: str) -> dict | None:
    """The container's writable volume mount (PVC or emptyDir) that holds `path`, if any."""
    (container,) = pod["containers"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    for mount in container["volumeMounts"]:
        root = mount["mountPath"].rstrip("/")
        inside = posixpath.normpath(path) == root or posixpath.normpath(path).startswith(root + "/")
        source = volumes.get(mount["name"], {})
        if inside and not mount.get("readOnly") and any(k in source for k in WRITABLE_SOURCES):
            return mount
    return None


def test_neuron_compile_cache_is_on_a_mounted_writable_volume(stack_run):
    for model in load_stack_settings(stack_run.stack).models:
        pod = workload(stack_run, model.service_name).inputs["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        # Without the setting the compiler writes here, which no writable volume covers
        assert writable_mount_for(pod, NEURON_COMPILER_DEFAULT_CACHE) is None
        variables = env(stack_run, model.service_name)
        cache = variables["NEURON_COMPILE_CACHE_URL"]
        mount = writable_mount_for(pod, cache)
        assert mount is not None, f"{model.service_name}: {cache} is on no writable volume"
        # The persistent cache volume, so a restarted pod does not recompile
        volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
        assert "persistentVolumeClaim" in volume
        # On the shared cache the compile-once entrypoint sets NEURON_COMPILED_ARTIFACTS from its
        # first argument (tests/test_scaling_cache_entry.py); on a volume of its own it is in env
        entry = container["command"][-1].endswith("neuron_cache_entry.py")
        artifacts = container["args"][0] if entry else variables["NEURON_COMPILED_ARTIFACTS"]
        for name, path in (("NEURON_COMPILED_ARTIFACTS", artifacts), ("HF_HOME", variables["HF_HOME"])):
            assert writable_mount_for(pod, path) is not None, name
