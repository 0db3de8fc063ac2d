"""`pulumi destroy`: `genai-platform:retainData` decides what a destroy keeps, flipping it on a
live stack is a safe update, and the preview's teardown section states what stays behind."""

from __future__ import annotations

import copy

import pytest

from components.settings import load_stack_settings
from tools.offline.updates import update_findings
from tools.preview.masking import Masker
from tools.preview.render import entries
from tools.preview.teardown import leftovers, teardown_text

BUCKET = "aws:s3/bucket:Bucket"
PVC = "kubernetes:core/v1:PersistentVolumeClaim"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
EFS = "aws:efs/fileSystem:FileSystem"


def _claim_holders(run):
    return run.of_type(PVC) + [s for s in run.of_type(STATEFUL_SET) if s.inputs["spec"].get("volumeClaimTemplates")]


def test_committed_stacks_choose_explicitly():
    assert load_stack_settings("dev").retain_data is False
    assert load_stack_settings("prod").retain_data is True


def test_retain_data_decides_every_data_holder(stack_run):
    retained = load_stack_settings(stack_run.stack).retain_data
    buckets, claims = stack_run.of_type(BUCKET), stack_run.of_type(PVC)
    assert buckets and claims
    for bucket in buckets:
        assert bucket.protect is retained and bool(bucket.inputs.get("forceDestroy")) is not retained, bucket.name
    for claim in claims:
        assert claim.protect is retained, claim.name
    # the shared model cache's file system holds the compiled models, like the claim bound to it
    (file_system,) = stack_run.of_type(EFS)
    assert file_system.protect is retained
    for stateful in _claim_holders(stack_run):
        if stateful.type == STATEFUL_SET:
            policy = stateful.inputs["spec"]["persistentVolumeClaimRetentionPolicy"]
            assert policy == {"whenDeleted": "Retain" if retained else "Delete", "whenScaled": "Retain"}
    (storage_class,) = stack_run.of_type(STORAGE_CLASS)
    assert storage_class.inputs["reclaimPolicy"] == ("Retain" if retained else "Delete")
    protected = [r for r in stack_run.resources if r.protect]
    assert bool(protected) is retained  # dev: nothing a destroy would stop at


def test_a_dev_stack_goes_in_one_destroy(stack_runs):
    run = stack_runs["dev"]
    items = leftovers(entries(run, Masker(run)), "us-east-1")
    assert [i.what for i in items if i.blocks] == []
    assert "removes every resource of the stack in one run" in teardown_text(entries(run, Masker(run)), "us-east-1")[0]


def test_teardown_lists_what_the_records_leave_behind(stack_run):
    settings = load_stack_settings(stack_run.stack)
    items = leftovers(entries(stack_run, Masker(stack_run)), settings.region)
    blockers, stays = [i.what for i in items if i.blocks], [i.what for i in items if not i.blocks]

    protected = [r for r in stack_run.resources if r.protect]
    listed = [b for b in blockers if "protected resources" in b]
    assert listed == ([f"{len(protected)} protected resources: "
                       + ", ".join(sorted(f"{r.name} [{r.type}]" for r in protected))] if protected else [])
    unforced = sorted(r.name for r in stack_run.of_type(BUCKET) if not r.inputs.get("forceDestroy"))
    assert sorted(b.split(":")[0].removeprefix("bucket ") for b in blockers if b.startswith("bucket ")) == unforced
    cluster = stack_run.one("aws:eks/cluster:Cluster")
    assert any("deletion protection" in b for b in blockers) is settings.cluster.deletion_protection

    # Retained volumes: their sizes come from the settings, not from the records
    volumes = [s for s in stays if "EBS volumes" in s]
    if settings.retain_data:
        stores, webui = settings.data_stores, settings.open_webui
        # model caches are EBS volumes only with modelCache.kind ebs (the shared EFS cache binds no class)
        models = settings.models if settings.model_cache.kind == "ebs" else []
        gib = (stores.postgres_gib + stores.redis_gib + settings.langfuse.clickhouse_gib
               + sum(m.cache_gib for m in models) + (webui.data_gib if webui.replicas == 1 else 0))
        count = 3 + len(models) + (webui.replicas == 1)
        assert len(volumes) == 1 and volumes[0].startswith(f"{count} EBS volumes, {gib:g} GiB")
    else:
        assert volumes == []
    group = f"/aws/eks/{settings.cluster_name}/cluster"
    assert any(s.startswith(f"CloudWatch log group {group} ") for s in stays)
    assert any(s.startswith(f"KMS key {stack_run.one('aws:kms/key:Key').name}: pending deletion for 30 days") for s in stays)
    assert cluster.inputs["name"] == settings.cluster_name


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_flipping_retain_data_is_a_safe_update(stack, stack_runs, run_with):
    """Both directions: no update Kubernetes refuses, no claim, bucket or StatefulSet replaced."""
    current = entries(stack_runs[stack], Masker(stack_runs[stack]))
    flipped_run = run_with(stack, {"genai-platform:retainData": not load_stack_settings(stack).retain_data})
    flipped = entries(flipped_run, Masker(flipped_run))
    assert update_findings(current, flipped) == [] and update_findings(flipped, current) == []
    # the StorageClass is what changes shape: replaced under its name, delete first
    (storage_class,) = flipped_run.of_type(STORAGE_CLASS)
    assert storage_class.replace_on_changes == ["reclaimPolicy"] and storage_class.delete_before_replace


def _edited(all_entries, urn, **changes):
    out = copy.deepcopy(all_entries)
    (entry,) = [e for e in out if e["urn"] == urn]
    for key, value in changes.items():
        if value is None:
            entry.pop(key, None)
        else:
            entry[key] = value
    return out


def test_update_findings_catch_what_kubernetes_refuses_and_what_loses_data(stack_runs):
    dev = entries(stack_runs["dev"], Masker(stack_runs["dev"]))
    (storage_class,) = [e for e in dev if e["type"] == STORAGE_CLASS]
    urn, flipped_inputs = storage_class["urn"], {**storage_class["inputs"], "reclaimPolicy": "Retain"}
    plain = _edited(dev, urn, inputs=flipped_inputs, replaceOnChanges=None, deleteBeforeReplace=None)
    assert update_findings(dev, plain) == [
        f"{storage_class['name']} [{STORAGE_CLASS}]: Kubernetes refuses to update reclaimPolicy (immutable)"]
    same_name = _edited(dev, urn, inputs=flipped_inputs, deleteBeforeReplace=None)
    assert "collides with the old one" in update_findings(dev, same_name)[0]

    # A claim moved to another class is replaced: its volume goes, or a protected claim stops the update
    claim = next(e for e in dev if e["type"] == PVC)
    moved = _edited(dev, claim["urn"], inputs={**claim["inputs"], "spec": {**claim["inputs"]["spec"],
                                                                          "storageClassName": "gp3-other"}})
    assert update_findings(dev, moved) == [f"{claim['name']} [{PVC}]: replaced (spec.storageClassName), which deletes its data"]
    protected = _edited(dev, claim["urn"], protect=True)
    assert update_findings(protected, moved)[0].endswith("Pulumi refuses: it is protected")

    # A StatefulSet whose claims go with it (dev: whenDeleted Delete) loses them when replaced
    postgres = next(e for e in dev if e["type"] == STATEFUL_SET and e["inputs"]["metadata"]["name"] == "postgres")
    renamed = _edited(dev, postgres["urn"], inputs={**postgres["inputs"], "spec": {**postgres["inputs"]["spec"],
                                                                                  "serviceName": "pg"}})
    assert update_findings(dev, renamed) == [
        f"{postgres['name']} [{STATEFUL_SET}]: replaced (spec.serviceName), which deletes its data"]


@pytest.mark.parametrize("retain", [True, False])
def test_the_efs_cache_follows_retain_data_and_a_replacement_loses_it(run_with, retain):
    """The file system is protected exactly when data is retained; a change that replaces it (EFS
    cannot change encryption or performance mode in place) deletes every compiled model, which
    Pulumi refuses for the protected one."""
    run = run_with("dev", {"genai-platform:retainData": retain})
    (file_system,) = run.of_type(EFS)
    assert file_system.protect is retain
    current = entries(run, Masker(run))
    (entry,) = [e for e in current if e["type"] == EFS]
    replaced = _edited(current, entry["urn"], inputs={**entry["inputs"], "performanceMode": "maxIO"})
    outcome = "Pulumi refuses: it is protected" if retain else "deletes its data"
    assert update_findings(current, replaced) == [f"{entry['name']} [{EFS}]: replaced (performanceMode), which {outcome}"]
    # throughput mode changes in place (UpdateFileSystem): no finding
    elastic = _edited(current, entry["urn"], inputs={**entry["inputs"], "throughputMode": "bursting"})
    assert update_findings(current, elastic) == []


def test_the_pr_diff_warns_about_an_update_that_loses_data(stack_runs):
    from types import SimpleNamespace  # noqa: PLC0415

    from tools.preview.diff import compare_with, render_markdown, render_text  # noqa: PLC0415

    dev = entries(stack_runs["dev"], Masker(stack_runs["dev"]))
    claim = next(e for e in dev if e["type"] == PVC)
    spec = claim["inputs"]["spec"]
    grown = _edited(dev, claim["urn"], inputs={**claim["inputs"], "spec": {**spec, "resources": {"requests": {"storage": "99Gi"}}}})
    assert update_findings(dev, grown) == []  # a claim grows in place
    shared = _edited(dev, claim["urn"], inputs={**claim["inputs"], "spec": {**spec, "accessModes": ["ReadWriteMany"]}})
    cost = {"monthlyTotal": 1.0, "byComponent": {}}
    old_side = SimpleNamespace(rev="main", commit=None, result=lambda: (dev, cost))  # the base revision, rendered
    report = compare_with(SimpleNamespace(stack="dev", entries=shared, cost=cost), old_side)
    warning = f"{claim['name']} [{PVC}]: replaced (spec.accessModes), which deletes its data"
    assert report.warnings == [warning]
    assert f"  ! {warning}" in render_text(report) and f"- {warning}" in render_markdown(report)


def test_the_pr_diff_shows_a_change_of_protection(stack_runs):
    from tools.preview.diff import compare  # noqa: PLC0415

    prod = stack_runs["prod"]
    protected = entries(prod, Masker(prod))
    unprotected = [{k: v for k, v in e.items() if k != "protect"} for e in protected]
    changes = compare(unprotected, protected)
    assert {c.urn for c in changes} == {r.urn for r in prod.resources if r.protect}
    assert all(c.status == "changed" and "+# protect: true (a destroy stops here)" in c.detail for c in changes)


def test_a_bad_retain_data_value_names_the_key_and_the_value():
    from components.settings import SettingsError, parse_settings  # noqa: PLC0415

    base = {"aws:region": "us-east-1", "genai-platform:hfToken": "hf_x"}
    with pytest.raises(SettingsError) as err:
        parse_settings({**base, "genai-platform:retainData": "maybe"})
    assert "genai-platform:retainData = 'maybe'" in str(err.value) and "boolean" in str(err.value)
    assert parse_settings({**base, "genai-platform:retainData": "false"}).retain_data is False  # as the CLI passes it
    assert parse_settings(base).retain_data is True
