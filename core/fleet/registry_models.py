"""Store table of the model registry: one row per published edge model version.

Rows are written only after the artifact and its manifest are in the cloud target, so
a row always points at objects that were uploaded whole. Rollouts refer to a version by
its id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.store.models import Base, utcnow


class ModelVersionRow(Base):
    """A published model: the artifact's place and digest, its schema, metrics and lineage."""

    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_model_versions_name_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20))
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    # A name, not a foreign key: the registry outlives a target that is later removed.
    target_name: Mapped[str] = mapped_column(String(100))
    artifact_key: Mapped[str] = mapped_column(String(500))
    manifest_key: Mapped[str] = mapped_column(String(500))
    input_schema: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    output_names: Mapped[list[Any]] = mapped_column(JSON, default=list)
    architectures: Mapped[list[Any]] = mapped_column(JSON, default=list)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    lineage: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    quantized: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
