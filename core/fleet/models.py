"""Store tables of the fleet: cloud targets, devices, heartbeats, API keys, webhook deliveries.

Secrets are never stored in the clear: cloud keys are Fernet ciphertexts
(core.secrets_box), device credentials, enrolment tokens and API keys are keyed hashes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.store.models import Base, utcnow

# SQLite only auto-increments an INTEGER primary key; PostgreSQL gets 64 bits.
BIG_ID = BigInteger().with_variant(Integer(), "sqlite")


class CloudTargetRow(Base):
    """An S3-compatible bucket (and prefix) Beacon may read from and write to."""

    __tablename__ = "cloud_targets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    provider: Mapped[str] = mapped_column(String(20))
    endpoint_url: Mapped[str] = mapped_column(String(500), default="")
    region: Mapped[str] = mapped_column(String(50), default="")
    bucket: Mapped[str] = mapped_column(String(255))
    prefix: Mapped[str] = mapped_column(String(500), default="")
    addressing: Mapped[str] = mapped_column(String(10), default="auto")
    credential_mode: Mapped[str] = mapped_column(String(10))
    profile: Mapped[str] = mapped_column(String(100), default="")
    access_key_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    secret_key_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    key_hint: Mapped[str] = mapped_column(String(20), default="")
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_test_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_test_ok: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    last_test_message: Mapped[str] = mapped_column(Text, default="")


class DeviceRow(Base):
    """An edge device: what it is, where it is, its credential (hashed) and latest status."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    arch: Mapped[str] = mapped_column(String(30), default="")
    os: Mapped[str] = mapped_column(String(100), default="")
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    site: Mapped[str] = mapped_column(String(100), default="")
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    capabilities: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20))
    enrol_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    enrol_expires_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    credential_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    credential_issued_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    desired_state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    enrolled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_status: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    heartbeat_count: Mapped[int] = mapped_column(BigInteger, default=0)


class HeartbeatRow(Base):
    """One status report of a device, kept for BEACON_HEARTBEAT_RETENTION_DAYS."""

    __tablename__ = "device_heartbeats"
    __table_args__ = (Index("ix_device_heartbeats_device_received", "device_id", "received_at"),)

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    cpu_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    mem_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    temp_c: Mapped[float | None] = mapped_column(Float, nullable=True)
    disk_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    inference_count: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    latency_p50_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    latency_p95_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    latency_p99_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    models: Mapped[list[Any]] = mapped_column(JSON, default=list)
    health: Mapped[str] = mapped_column(String(20))


class ServiceAccountRow(Base):
    """A machine identity for automation: a hashed API key and the scopes it may use."""

    __tablename__ = "service_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_hint: Mapped[str] = mapped_column(String(20))
    scopes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class WebhookDeliveryRow(Base):
    """A webhook signature already accepted: a second delivery of it is a replay."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    signature_hash: Mapped[str] = mapped_column(String(64), unique=True)
    workflow: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
