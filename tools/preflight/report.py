"""Check results, their one-line rendering, and AWS errors turned into results with a fix.

Every check returns `CheckResult`s; nothing here talks to AWS.
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)

try:  # SSO errors: present in every botocore this project supports, but keep them optional.
    from botocore.exceptions import SSOTokenLoadError, TokenRetrievalError, UnauthorizedSSOTokenError

    _SSO_ERRORS: tuple[type[Exception], ...] = (SSOTokenLoadError, TokenRetrievalError, UnauthorizedSSOTokenError)
except ImportError:  # pragma: no cover
    _SSO_ERRORS = ()

# Errors that mean "these credentials are not usable", whatever the operation.
_BAD_CREDENTIAL_CODES = frozenset({
    "UnrecognizedClientException", "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException",
    "SignatureDoesNotMatch", "InvalidSignatureException", "AuthFailure", "RequestExpired",
})
# Errors that mean "valid credentials, but the policy does not allow this read".
_DENIED_CODES = frozenset({
    "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedException",
    "AuthorizationError", "OptInRequired",
})
_THROTTLE_CODES = frozenset({"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"})

# boto3 service name -> IAM action prefix, where they differ.
_IAM_PREFIX = {"service-quotas": "servicequotas"}

# Errors a check converts into a FAIL instead of letting them escape as a traceback.
AWS_ERRORS: tuple[type[Exception], ...] = (ClientError, BotoCoreError)


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check: `fix` says what to change when `passed` is False."""

    name: str
    passed: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        """`PASS name: detail` or `FAIL name: detail -> fix`."""
        if self.passed:
            return f"PASS {self.name}: {self.detail}"
        return f"FAIL {self.name}: {self.detail} -> {self.fix or 'see the detail'}"


def summary(results: list[CheckResult]) -> str:
    """Closing line. Worded so CI log scrapers never read it as a test runner's tally."""
    failed = sum(not r.passed for r in results)
    verdict = "ready for `pulumi up`" if not failed else f"fix the {failed} failing check(s) before `pulumi up`"
    return f"preflight summary: {len(results) - failed} of {len(results)} checks passed; {verdict}"


def _iam_action(service: str, operation: str) -> str:
    return f"{_IAM_PREFIX.get(service, service)}:{operation}"


def result_from_aws_error(name: str, service: str, exc: Exception) -> CheckResult:
    """Turn a botocore error raised by `service` into a FAIL with a concrete fix."""
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return CheckResult(
            name, False, f"no usable AWS credentials ({exc})",
            "configure credentials: `export AWS_PROFILE=<profile>` (and `aws sso login` for SSO profiles), "
            "or set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN",
        )
    if _SSO_ERRORS and isinstance(exc, _SSO_ERRORS):
        return CheckResult(name, False, f"AWS SSO session not usable ({exc})",
                           "run `aws sso login --profile <profile>` and retry")
    if isinstance(exc, EndpointConnectionError):
        return CheckResult(
            name, False, f"cannot reach the {service} endpoint ({exc})",
            "check the stack's region name and your network / proxy (HTTPS_PROXY) settings",
        )
    if isinstance(exc, NoRegionError):
        return CheckResult(name, False, str(exc), "set `region` in the stack settings")
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "Unknown")
        message = error.get("Message", "")
        operation = exc.operation_name
        detail = f"{operation} failed with {code}: {message}".rstrip(": ")
        if code in _BAD_CREDENTIAL_CODES:
            fix = "refresh or replace the AWS credentials (expired or invalid keys/session token)"
        elif code in _DENIED_CODES:
            fix = (f"allow the read-only action {_iam_action(service, operation)} for the caller "
                   "(attach a policy granting it, or use a role that has it)")
        elif code in _THROTTLE_CODES:
            fix = "AWS throttled the request: wait a minute and rerun"
        else:
            fix = f"resolve the {code} error from {_iam_action(service, operation)} and rerun"
        return CheckResult(name, False, detail, fix)
    # Any other BotoCoreError (bad config file, invalid parameter, ...).
    return CheckResult(name, False, f"{type(exc).__name__}: {exc}",
                       "check your AWS configuration (~/.aws/config, AWS_* environment variables)")
