"""kpis: custom metrics, targets, warehouse connections and tables

Revision ID: kpis_0001
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "kpis_0001"
down_revision = "0001"
branch_labels = ("kpis",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kpi_custom_metrics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset", sa.String(length=200), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("aggregation", sa.String(length=20), nullable=False),
        sa.Column("column", sa.String(length=300), nullable=True),
        sa.Column("filter", sa.JSON(), nullable=True),
        sa.Column("up_is_bad", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dataset", "label"),
    )
    op.create_table(
        "kpi_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset", sa.String(length=200), nullable=False),
        sa.Column("metric", sa.String(length=400), nullable=False),
        sa.Column("grain", sa.String(length=10), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dataset", "metric", "grain", "period_start"),
    )
    op.create_table(
        "kpi_warehouse_connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("url_encrypted", sa.Text(), nullable=False),
        sa.Column("display_url", sa.String(length=500), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "kpi_warehouse_tables",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("schema_name", sa.String(length=200), nullable=True),
        sa.Column("table_name", sa.String(length=200), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"], ["kpi_warehouse_connections.id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("kpi_warehouse_tables")
    op.drop_table("kpi_warehouse_connections")
    op.drop_table("kpi_targets")
    op.drop_table("kpi_custom_metrics")
