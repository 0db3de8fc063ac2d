"""Preflight check of the cluster's access entries: every principal named in the settings exists.

EKS takes an access entry only for an existing IAM principal (EKS User Guide, "Create access
entries": "the ARN of one, and only one, existing IAM principal"); CreateAccessEntry for any other
ARN fails with `InvalidParameterException: The specified principalArn is invalid: invalid
principal`, late in the first `pulumi up`, after the control plane has been created. A STANDARD
entry may name a principal of another account, which this account cannot read: such an ARN is
reported as not checked, except for AWS's documentation account, which no one deploys to.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from components.catalog import principal_id

from .context import Clients, PreflightTarget, error_code, guard
from .report import CheckResult

# The account id of AWS's documentation examples (and of the committed stack files' examples)
EXAMPLE_ACCOUNT = "123456789012"


def check_access_principals(target: PreflightTarget, clients: Clients) -> list[CheckResult]:
    """Each `cluster.adminPrincipals` / `cluster.readerPrincipals` ARN is an IAM role or user that exists,
    and a caller who did not create the cluster (`cluster.creatorPrincipal`) is one of the admins."""
    if not target.access_principals and not target.creator_principal:
        return [CheckResult("access-principals", True, "no admin or reader principals besides the deployer")]

    def run() -> list[CheckResult]:
        caller = clients("sts").get_caller_identity()
        results = [_creator_result(target, caller["Arn"])] if target.creator_principal else []
        return results + [_principal_result(key, arn, caller["Account"], clients("iam"))
                          for key, arn in target.access_principals]

    return guard("access-principals", "iam", run)


def _creator_result(target: PreflightTarget, caller_arn: str) -> CheckResult:
    """Only the creator has the entry EKS made; anyone else running `pulumi up` needs an admin entry,
    or every Kubernetes call of the update is Unauthorized."""
    caller = principal_id(caller_arn)
    admins = [arn for key, arn in target.access_principals if key.startswith("cluster.adminPrincipals")]
    if caller == principal_id(target.creator_principal) or any(caller == principal_id(arn) for arn in admins):
        return CheckResult("access-deployer", True, f"{caller_arn} is the cluster's creator or one of its admins")
    return CheckResult("access-deployer", False,
                       f"{caller_arn} is neither cluster.creatorPrincipal ({target.creator_principal}) nor in "
                       "cluster.adminPrincipals: the Kubernetes part of `pulumi up` would be Unauthorized",
                       f"pulumi config set --path 'cluster.adminPrincipals[{len(admins)}]' <this caller's role or user "
                       "ARN>, and `pulumi up` it as the creator (or another admin) first")


def _principal_result(key: str, arn: str, account: str, iam: Any) -> CheckResult:
    name = f"access-principal {key}"
    fix = (f"pulumi config set --path '{key}' <the ARN of an existing role or user> "
           f"(or remove it: pulumi config rm --path '{key}')")
    principal_account, resource = arn.split(":")[4], arn.split(":", 5)[5]
    kind, principal_name = resource.split("/", 1)[0], resource.rsplit("/", 1)[-1]
    if principal_account != account:
        if principal_account == EXAMPLE_ACCOUNT:
            return CheckResult(name, False, f"{arn} is in {EXAMPLE_ACCOUNT}, the documentation example account "
                                            f"(you deploy to {account}): EKS would refuse the access entry", fix)
        return CheckResult(name, True, f"{arn} is in another account ({principal_account}): not checked")
    try:
        if kind == "role":
            found = iam.get_role(RoleName=principal_name)["Role"]["Arn"]
        else:
            found = iam.get_user(UserName=principal_name)["User"]["Arn"]
    except ClientError as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
        return CheckResult(name, False, f"no IAM {kind} {principal_name!r} in account {account}: EKS refuses an "
                                        "access entry for a principal that does not exist (invalid principal)", fix)
    return CheckResult(name, True, f"{found} exists")
