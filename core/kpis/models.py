"""Tables of the KPI feature: custom metrics, targets, warehouse connections and tables."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.store.models import Base, utcnow


class KpiCustomMetricRow(Base):
    """An analyst's metric over one dataset: aggregation + column + optional filter."""

    __tablename__ = "kpi_custom_metrics"
    __table_args__ = (UniqueConstraint("dataset", "label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset: Mapped[str] = mapped_column(String(200))
    label: Mapped[str] = mapped_column(String(100))
    aggregation: Mapped[str] = mapped_column(String(20))
    column: Mapped[str | None] = mapped_column(String(300), nullable=True)
    filter: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    up_is_bad: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class KpiTargetRow(Base):
    """The value a metric should reach in one period of a grain."""

    __tablename__ = "kpi_targets"
    __table_args__ = (UniqueConstraint("dataset", "metric", "grain", "period_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset: Mapped[str] = mapped_column(String(200))
    metric: Mapped[str] = mapped_column(String(400))
    grain: Mapped[str] = mapped_column(String(10))
    period_start: Mapped[date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    created_by: Mapped[str] = mapped_column(String(320))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WarehouseConnectionRow(Base):
    """An external SQLAlchemy database; its URL is stored encrypted (Fernet)."""

    __tablename__ = "kpi_warehouse_connections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    url_encrypted: Mapped[str] = mapped_column(Text)
    display_url: Mapped[str] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WarehouseTableRow(Base):
    """A table in a warehouse connection, used as a dataset-like source with column roles."""

    __tablename__ = "kpi_warehouse_tables"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("kpi_warehouse_connections.id", ondelete="CASCADE")
    )
    schema_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    table_name: Mapped[str] = mapped_column(String(200))
    columns: Mapped[list[Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
