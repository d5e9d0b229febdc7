"""What went wrong talking to S3-compatible storage, in words an admin can act on.

botocore reports failures as error codes (`InvalidAccessKeyId`, `NoSuchBucket`, …) or
as exceptions (connection refused, timeouts). `explain` turns either into a `Failure`
with a kind the page and tests can rely on, a one-line message, and whether it was an
outage (which counts against the target's circuit breaker) or an answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from boto3.exceptions import RetriesExceededError, S3UploadFailedError
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from core.errors import BeaconError, IntegrationError, UserInputError

BAD_CREDENTIALS = "bad_credentials"
MISSING_BUCKET = "missing_bucket"
MISSING_OBJECT = "missing_object"
NO_PERMISSION = "no_permission"
UNREACHABLE = "unreachable"
CLOCK_SKEW = "clock_skew"
NO_CREDENTIALS = "no_credentials"
WRONG_REGION = "wrong_region"
SERVICE_ERROR = "service_error"


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed storage call, explained."""

    kind: str
    message: str
    outage: bool

    def error(self) -> BeaconError:
        """The exception to raise: user-fixable problems are UserInputError."""
        fixable = self.kind in (MISSING_OBJECT, NO_CREDENTIALS, WRONG_REGION)
        return (UserInputError if fixable else IntegrationError)(self.message)


# Error code -> (kind, message); {where} names the target and bucket.
CODES: dict[str, tuple[str, str]] = {
    "InvalidAccessKeyId": (
        BAD_CREDENTIALS,
        "{where}: the access key id is not known to the service: check it or create new keys.",
    ),
    "SignatureDoesNotMatch": (
        BAD_CREDENTIALS,
        "{where}: the secret access key does not match the access key id: enter it again.",
    ),
    "InvalidToken": (BAD_CREDENTIALS, "{where}: the session token is not valid."),
    "ExpiredToken": (BAD_CREDENTIALS, "{where}: the credentials have expired: renew them."),
    "InvalidSecurity": (BAD_CREDENTIALS, "{where}: the credentials were refused."),
    "NoSuchBucket": (
        MISSING_BUCKET,
        "{where}: the bucket does not exist: check its name, region and endpoint.",
    ),
    "NoSuchKey": (MISSING_OBJECT, "{where}: there is no object {key!r}."),
    "AccessDenied": (
        NO_PERMISSION,
        "{where}: the credentials are valid but may not {action}: grant that permission.",
    ),
    "AllAccessDisabled": (NO_PERMISSION, "{where}: all access to this bucket is disabled."),
    "AccountProblem": (NO_PERMISSION, "{where}: the storage account is suspended or blocked."),
    "RequestTimeTooSkewed": (
        CLOCK_SKEW,
        "{where}: this server's clock is too far from the storage service's (over 15 "
        "minutes): synchronise it (NTP) and try again.",
    ),
    "PermanentRedirect": (
        WRONG_REGION,
        "{where}: the bucket lives in another region or endpoint: correct the region.",
    ),
    "AuthorizationHeaderMalformed": (
        WRONG_REGION,
        "{where}: the region does not match the bucket's: correct the region.",
    ),
    "IllegalLocationConstraintException": (
        WRONG_REGION,
        "{where}: the region does not match the bucket's: correct the region.",
    ),
}
# HEAD requests carry no error body, only the status.
STATUS_CODES = {
    "404": "NoSuchKey",  # a HEAD of a missing object (or bucket, when no key was asked)
    "403": "AccessDenied",
    "301": "PermanentRedirect",
}


def _client_failure(exc: ClientError, where: str, action: str, key: str) -> Failure:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    code = STATUS_CODES.get(code, code)
    if code == "NoSuchKey" and not key:
        code = "NoSuchBucket"
    if code in CODES:
        kind, template = CODES[code]
        if code == "AccessDenied" and error.get("Code") == "403":
            template = "{where}: access denied (the credentials are wrong or may not {action})."
        return Failure(kind, template.format(where=where, action=action, key=key), False)
    outage = status >= 500 or code in ("SlowDown", "ServiceUnavailable", "InternalError")
    message = str(error.get("Message") or code or status).splitlines()[0][:200]
    return Failure(
        SERVICE_ERROR, f"{where}: the service answered {code or status}: {message}", outage
    )


def explain(exc: BaseException, where: str, action: str, key: str = "") -> Failure | None:
    """A Failure for a storage error, or None when `exc` is not one (a bug: let it rise)."""
    if isinstance(exc, S3UploadFailedError) and isinstance(exc.__context__, ClientError):
        exc = exc.__context__
    if isinstance(exc, RetriesExceededError) and exc.last_exception is not None:
        exc = exc.last_exception
    if isinstance(exc, ClientError):
        return _client_failure(exc, where, action, key)
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return Failure(
            NO_CREDENTIALS,
            f"{where}: no credentials found in the default AWS chain (environment, "
            "~/.aws files, instance role): configure them or enter access keys.",
            False,
        )
    if isinstance(exc, ProfileNotFound):
        return Failure(NO_CREDENTIALS, f"{where}: {exc}: check the AWS config files.", False)
    if isinstance(exc, BotoConnectionError | HTTPClientError):
        detail = str(exc).splitlines()[0][:200]
        return Failure(UNREACHABLE, f"{where}: cannot reach the storage service ({detail}).", True)
    if isinstance(exc, BotoCoreError):
        return Failure(SERVICE_ERROR, f"{where}: {str(exc).splitlines()[0][:200]}", False)
    return None


def is_outage(exc: BaseException) -> bool:
    """Whether `exc` means the service is down (it counts against the breaker)."""
    failure = explain(exc, "", "")
    return failure is not None and failure.outage
