"""Preflight check of the AWS credentials and the account they belong to."""

from __future__ import annotations

from .context import Clients, PreflightTarget, guard
from .report import CheckResult


def identity_result(target: PreflightTarget, clients: Clients) -> CheckResult:
    """STS GetCallerIdentity as a result; AWS errors propagate (`run_checks` needs to see them)."""
    ident = clients("sts").get_caller_identity()
    account, arn = ident["Account"], ident["Arn"]
    detail = f"account {account} as {arn}"
    if target.expected_account_id and account != target.expected_account_id:
        return CheckResult(
            "credentials", False,
            f"{detail}, but the stack expects account {target.expected_account_id}",
            f"switch to credentials for account {target.expected_account_id} (e.g. another AWS_PROFILE), "
            "or correct accountId in the stack settings",
        )
    return CheckResult("credentials", True, detail)


def check_identity(target: PreflightTarget, clients: Clients) -> list[CheckResult]:
    """STS GetCallerIdentity works; the account matches `expected_account_id` when pinned."""
    return guard("credentials", "sts", lambda: identity_result(target, clients))
