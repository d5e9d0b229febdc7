"""Request and response bodies of the machine API, validated by pydantic."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _In(BaseModel):
    # Devices in the field run older or newer agents: unknown fields are ignored.
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class Capabilities(_In):
    """What a device can run."""

    execution_providers: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="ONNX Runtime execution providers, e.g. CPUExecutionProvider",
    )
    memory_mb: int | None = Field(None, ge=0, le=10_000_000)
    accelerator: str = Field("", max_length=100)


class EnrolIn(_In):
    """A device exchanging its one-time enrolment token for a credential."""

    token: str = Field(min_length=10, max_length=200)
    arch: str = Field("", max_length=30, description="e.g. arm64, x86_64")
    os: str = Field("", max_length=100, description="e.g. Debian 12, Android 15")
    capabilities: Capabilities = Field(default_factory=Capabilities)


class EnrolOut(BaseModel):
    device: str
    credential: str = Field(description="Send as 'Authorization: Bearer …'; shown once")
    heartbeat_seconds: int


class ModelVersion(_In):
    name: str = Field(min_length=1, max_length=100)
    version: str = Field(min_length=1, max_length=50)


class Inference(_In):
    """Inference since the previous heartbeat."""

    count: int = Field(0, ge=0, le=10**12)
    p50_ms: float | None = Field(None, ge=0, le=3_600_000)
    p95_ms: float | None = Field(None, ge=0, le=3_600_000)
    p99_ms: float | None = Field(None, ge=0, le=3_600_000)


class HeartbeatIn(_In):
    """A device's status report."""

    sent_at: datetime | None = None
    cpu_pct: float | None = Field(None, ge=0, le=100)
    mem_pct: float | None = Field(None, ge=0, le=100)
    temp_c: float | None = Field(None, ge=-60, le=200)
    disk_pct: float | None = Field(None, ge=0, le=100)
    models: list[ModelVersion] = Field(default_factory=list, max_length=50)
    inference: Inference | None = None

    @field_validator("sent_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        # A device clock without a zone is taken as UTC; stored times are all UTC.
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class HeartbeatOut(BaseModel):
    accepted: bool = True
    next_in_seconds: int


class DesiredStateOut(BaseModel):
    device: str
    tags: list[str]
    models: list[dict]
    heartbeat_seconds: int


class CredentialOut(BaseModel):
    credential: str


class TokenIn(_In):
    scopes: list[str] | None = Field(None, max_length=20)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 (the OAuth token type, not a secret)
    expires_in: int
    scope: str


class DeviceIn(_In):
    name: str = Field(min_length=1, max_length=64)
    kind: str
    arch: str = ""
    os: str = ""
    tags: list[str] = Field(default_factory=list, max_length=20)
    site: str = ""
    lat: float | None = None
    lon: float | None = None
    notes: str = Field("", max_length=5000)


class DeviceOut(BaseModel):
    name: str
    kind: str
    arch: str
    os: str
    tags: list[str]
    site: str
    lat: float | None
    lon: float | None
    status: str
    liveness: str
    health: str
    last_seen_at: datetime | None
    heartbeats: int


class EnrolmentOut(BaseModel):
    device: DeviceOut
    enrolment_token: str
    expires_at: datetime


class WebhookOut(BaseModel):
    accepted: bool = True
    run: str
