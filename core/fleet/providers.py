"""The S3-compatible storage providers Beacon knows, and what each one needs.

A provider is one registration: adding one is a `register(Provider(...))` line.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import UserInputError


@dataclass(frozen=True, slots=True)
class Provider:
    """How to reach one kind of S3-compatible storage."""

    key: str
    label: str
    endpoint_hint: str  # shown as the endpoint field's placeholder
    needs_endpoint: bool
    default_region: str
    addressing: str  # the 'auto' addressing style resolves to this
    # AWS checks the CRC checksums botocore sends by default; other services may reject
    # them (Google Cloud Storage does), so they get checksums only where S3 requires them.
    checksums_by_default: bool
    help: str


PROVIDERS: dict[str, Provider] = {}


def register(provider: Provider) -> Provider:
    """Add a provider to the registry."""
    PROVIDERS[provider.key] = provider
    return provider


def provider(key: str) -> Provider:
    """The provider registered under `key`."""
    try:
        return PROVIDERS[key]
    except KeyError:
        raise UserInputError(
            f"Unknown storage provider {key!r}: choose one of {', '.join(PROVIDERS)}."
        ) from None


register(
    Provider(
        "aws",
        "Amazon S3",
        "(empty: AWS's own endpoint for the region)",
        needs_endpoint=False,
        default_region="us-east-1",
        addressing="virtual",
        checksums_by_default=True,
        help="Bucket in AWS; credentials from the default chain, a profile or access keys.",
    )
)
register(
    Provider(
        "minio",
        "MinIO",
        "https://minio.example.com:9000",
        needs_endpoint=True,
        default_region="us-east-1",
        addressing="path",
        checksums_by_default=False,
        help="Self-hosted MinIO (or another S3-compatible server); path-style addressing.",
    )
)
register(
    Provider(
        "r2",
        "Cloudflare R2",
        "https://ACCOUNT_ID.r2.cloudflarestorage.com",
        needs_endpoint=True,
        default_region="auto",
        addressing="path",
        checksums_by_default=False,
        help="R2 bucket; use an R2 API token's access key id and secret.",
    )
)
register(
    Provider(
        "gcs",
        "Google Cloud Storage (interoperability)",
        "https://storage.googleapis.com",
        needs_endpoint=True,
        default_region="auto",
        addressing="path",
        checksums_by_default=False,
        help="GCS through its XML API: create HMAC keys under Settings > Interoperability.",
    )
)
register(
    Provider(
        "s3",
        "Other S3-compatible",
        "https://s3.example.com",
        needs_endpoint=True,
        default_region="us-east-1",
        addressing="path",
        checksums_by_default=False,
        help="Any server speaking the S3 API (Ceph RGW, Wasabi, Backblaze B2, SeaweedFS…).",
    )
)
