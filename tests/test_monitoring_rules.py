"""The rendered alert rules, checked by the real promtool: they parse, and every alert fires on the
series it is about and stays quiet otherwise (cases in monitoring_rule_cases.py)."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from components.settings.loading import load_stack_settings
from monitoring_rule_cases import cases, promtool_tests
from prometheus_tools import binary, rendered_rules
from tools.offline.engine import PROJECT_DIR


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


@pytest.fixture
def rule_file(stack_run, tmp_path):
    path = tmp_path / "genai-platform.rules.yaml"
    path.write_text(yaml.safe_dump(rendered_rules(stack_run), sort_keys=False))
    return path


def test_rendered_rules_pass_promtool_check(rule_file):
    result = _run(binary("promtool"), "check", "rules", str(rule_file))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_check_catches_a_broken_rule(rule_file):
    """The check above can fail: a misspelt function is refused."""
    rules = yaml.safe_load(rule_file.read_text())
    rules["groups"][0]["rules"][0]["expr"] = "histogram_quantil(0.95, x)"
    rule_file.write_text(yaml.safe_dump(rules))
    assert _run(binary("promtool"), "check", "rules", str(rule_file)).returncode != 0


def test_every_alert_has_a_firing_and_a_quiet_case(stack_run):
    settings = load_stack_settings(stack_run.stack, PROJECT_DIR)
    alerts = {r["alert"] for g in rendered_rules(stack_run)["groups"] for r in g["rules"]}
    assert alerts == set(cases(settings)), alerts ^ set(cases(settings))
    assert all(case["fire"] and case["quiet"] for case in cases(settings).values())


def test_every_alert_has_runbook_text(stack_run):
    for group in rendered_rules(stack_run)["groups"]:
        for rule in group["rules"]:
            assert len(rule["annotations"]["runbook"]) > 80, rule["alert"]
            assert rule["labels"]["severity"] in ("warning", "critical")


def test_alerts_fire_and_stay_quiet_under_promtool(stack_run, rule_file, tmp_path):
    settings = load_stack_settings(stack_run.stack, PROJECT_DIR)
    tests = tmp_path / "tests.yaml"
    tests.write_text(yaml.safe_dump(promtool_tests(rule_file.name, settings), sort_keys=False))
    result = _run(binary("promtool"), "test", "rules", str(tests))
    assert result.returncode == 0, result.stdout + result.stderr


def test_budget_from_settings_moves_the_spend_alert(run_with, tmp_path):
    """A lower budget makes the 'quiet' spend of the default budget fire."""
    run = run_with("dev", {"genai-platform:monitoring": {"spendBudgetPerHour": 0.1}})
    [rule] = [r for g in rendered_rules(run)["groups"] for r in g["rules"] if r["alert"] == "GatewaySpendOverBudget"]
    assert rule["expr"].endswith("> 0.1")
