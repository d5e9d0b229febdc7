"""Store tables of the copy studio: brand voices, the content library, experiments, usage."""

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
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.store.models import Base, utcnow


class CopyVoiceRow(Base):
    """A saved brand voice: tone sliders, audience, word lists, reading level, samples."""

    __tablename__ = "copy_voices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    brand: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    tone: Mapped[dict[str, Any]] = mapped_column(JSON)
    audience: Mapped[str] = mapped_column(Text, default="")
    preferred_words: Mapped[list[Any]] = mapped_column(JSON)
    banned_words: Mapped[list[Any]] = mapped_column(JSON)
    reading_grade: Mapped[float | None] = mapped_column(Float, nullable=True)
    samples: Mapped[list[Any]] = mapped_column(JSON)
    updated_by: Mapped[str] = mapped_column(String(320))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CopyItemRow(Base):
    """A piece of copy in the library; its edits are kept as revisions."""

    __tablename__ = "copy_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(50), index=True)
    body: Mapped[str] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    voice: Mapped[str | None] = mapped_column(String(100), nullable=True)
    provider: Mapped[str] = mapped_column(String(30))
    model: Mapped[str] = mapped_column(String(100), default="")
    grounding: Mapped[dict[str, Any]] = mapped_column(JSON)
    batch: Mapped[str] = mapped_column(String(32), default="")
    variant: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(320))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    revisions: Mapped[list[CopyRevisionRow]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="CopyRevisionRow.revision"
    )
    tags: Mapped[list[CopyTagRow]] = relationship(
        cascade="all, delete-orphan", order_by="CopyTagRow.tag"
    )


class CopyRevisionRow(Base):
    """One version of an item's text: who wrote it, when and why."""

    __tablename__ = "copy_revisions"
    __table_args__ = (UniqueConstraint("item_id", "revision"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("copy_items.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(String(200), default="")
    edited_by: Mapped[str] = mapped_column(String(320))
    edited_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    item: Mapped[CopyItemRow] = relationship(back_populates="revisions")


class CopyTagRow(Base):
    """A tag on a library item."""

    __tablename__ = "copy_tags"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("copy_items.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(50), primary_key=True, index=True)


class CopyExperimentRow(Base):
    """An A/B test between saved items, with its last computed result."""

    __tablename__ = "copy_experiments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    metric: Mapped[str] = mapped_column(String(20))
    alpha: Mapped[float] = mapped_column(Float)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    winner_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("copy_items.id", ondelete="SET NULL"), nullable=True
    )
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    arms: Mapped[list[CopyArmRow]] = relationship(
        cascade="all, delete-orphan", order_by="CopyArmRow.id"
    )


class CopyArmRow(Base):
    """One variant in an experiment and its recorded counts."""

    __tablename__ = "copy_experiment_arms"
    __table_args__ = (UniqueConstraint("experiment_id", "item_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("copy_experiments.id", ondelete="CASCADE")
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("copy_items.id", ondelete="CASCADE"))
    impressions: Mapped[int] = mapped_column(BigInteger, default=0)
    clicks: Mapped[int] = mapped_column(BigInteger, default=0)
    conversions: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_by: Mapped[str] = mapped_column(String(320))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CopyGenerationRow(Base):
    """One generation request: who, which provider and model, tokens, cost and timing."""

    __tablename__ = "copy_generations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(320))
    provider: Mapped[str] = mapped_column(String(30))
    model: Mapped[str] = mapped_column(String(100), default="")
    content_type: Mapped[str] = mapped_column(String(50))
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    seconds: Mapped[float] = mapped_column(Float)
    first_token_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    ok: Mapped[bool] = mapped_column(Boolean, default=True)
