"""Storage errors explained: each botocore failure maps to a kind and a message to act on."""

from __future__ import annotations

import pytest
from boto3.exceptions import RetriesExceededError, S3UploadFailedError
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from core.errors import IntegrationError, UserInputError
from core.fleet.s3_errors import explain, is_outage

WHERE = "Cloud target lake (bucket b)"


def client_error(code: str, status: int, op: str = "ListObjectsV2") -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": f"{code} message"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        op,
    )


@pytest.mark.parametrize(
    ("code", "status", "kind", "words"),
    [
        ("InvalidAccessKeyId", 403, "bad_credentials", "access key id is not known"),
        ("SignatureDoesNotMatch", 403, "bad_credentials", "secret access key does not match"),
        ("ExpiredToken", 400, "bad_credentials", "have expired"),
        ("NoSuchBucket", 404, "missing_bucket", "the bucket does not exist"),
        ("AccessDenied", 403, "no_permission", "may not list objects"),
        ("RequestTimeTooSkewed", 403, "clock_skew", "synchronise it (NTP)"),
        ("PermanentRedirect", 301, "wrong_region", "another region"),
        ("403", 403, "no_permission", "access denied (the credentials are wrong or may not"),
    ],
)
def test_answers_are_told_apart(code, status, kind, words):
    failure = explain(client_error(code, status), WHERE, "list objects")
    assert failure.kind == kind and not failure.outage
    assert failure.message.startswith(WHERE) and words in failure.message


def test_a_head_404_is_a_missing_object_when_a_key_was_asked_else_a_missing_bucket():
    missing = explain(client_error("404", 404, "HeadObject"), WHERE, "read objects", "a.csv")
    assert (missing.kind, missing.message) == (
        "missing_object",
        f"{WHERE}: there is no object 'a.csv'.",
    )
    assert isinstance(missing.error(), UserInputError)
    assert explain(client_error("404", 404, "HeadBucket"), WHERE, "list").kind == "missing_bucket"


@pytest.mark.parametrize(
    "exc",
    [
        EndpointConnectionError(endpoint_url="http://127.0.0.1:9"),
        ConnectTimeoutError(endpoint_url="http://10.255.255.1"),
        ReadTimeoutError(endpoint_url="http://127.0.0.1:9"),
        RetriesExceededError(EndpointConnectionError(endpoint_url="http://x")),
    ],
)
def test_connection_failures_are_outages(exc):
    failure = explain(exc, WHERE, "read objects")
    assert failure.kind == "unreachable" and failure.outage and is_outage(exc)
    assert "cannot reach the storage service" in failure.message
    assert isinstance(failure.error(), IntegrationError)


def test_server_errors_are_outages_and_client_errors_are_not():
    assert is_outage(client_error("InternalError", 500))
    assert is_outage(client_error("SlowDown", 503))
    assert not is_outage(client_error("AccessDenied", 403))
    assert explain(client_error("WeirdCode", 400), WHERE, "x").message == (
        f"{WHERE}: the service answered WeirdCode: WeirdCode message"
    )


def test_wrapped_upload_failures_keep_their_code():
    try:
        try:
            raise client_error("AccessDenied", 403, "PutObject")
        except ClientError as inner:
            raise S3UploadFailedError("Failed to upload") from inner
    except S3UploadFailedError as outer:
        assert explain(outer, WHERE, "write objects").kind == "no_permission"


def test_missing_credentials_are_for_the_admin_to_fix():
    failure = explain(NoCredentialsError(), WHERE, "list")
    assert failure.kind == "no_credentials" and "default AWS chain" in failure.message
    assert isinstance(failure.error(), UserInputError)


def test_other_exceptions_are_not_explained():
    assert explain(RuntimeError("bug"), WHERE, "x") is None
    assert not is_outage(RuntimeError("bug"))
