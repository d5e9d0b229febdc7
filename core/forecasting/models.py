"""Tables of saved forecast runs: the run, one row per series, one row per forecast period.

Supply chain and workflows read these (through core.forecasting.runs), so a forecast
is computed once and reused.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
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


class ForecastRunRow(Base):
    __tablename__ = "forecast_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    dataset: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    dataset_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    freq: Mapped[str] = mapped_column(String(20))
    horizon: Mapped[int] = mapped_column(Integer)
    series_count: Mapped[int] = mapped_column(Integer)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ForecastSeriesRow(Base):
    __tablename__ = "forecast_series"
    __table_args__ = (UniqueConstraint("run_id", "series_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("forecast_runs.id", ondelete="CASCADE"), index=True
    )
    series_id: Mapped[str] = mapped_column(String(500))
    model: Mapped[str] = mapped_column(String(100))
    model_label: Mapped[str] = mapped_column(String(200))
    members: Mapped[list[Any]] = mapped_column(JSON, default=list)
    mase: Mapped[float | None] = mapped_column(Float, nullable=True)
    smape: Mapped[float | None] = mapped_column(Float, nullable=True)
    owa: Mapped[float | None] = mapped_column(Float, nullable=True)
    coverage80: Mapped[float | None] = mapped_column(Float, nullable=True)
    coverage95: Mapped[float | None] = mapped_column(Float, nullable=True)
    why: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[list[Any]] = mapped_column(JSON, default=list)


class ForecastPointRow(Base):
    __tablename__ = "forecast_points"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("forecast_runs.id", ondelete="CASCADE"), index=True
    )
    series_id: Mapped[str] = mapped_column(String(500))
    ds: Mapped[date] = mapped_column(Date)
    yhat: Mapped[float] = mapped_column(Float)
    lo80: Mapped[float] = mapped_column(Float)
    hi80: Mapped[float] = mapped_column(Float)
    lo95: Mapped[float] = mapped_column(Float)
    hi95: Mapped[float] = mapped_column(Float)
