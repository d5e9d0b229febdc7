"""fleet models: the registry of published edge model versions

Revision ID: fleet_models_0001
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "fleet_models_0001"
down_revision = "0001"
branch_labels = ("fleet_models",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("target_name", sa.String(length=100), nullable=False),
        sa.Column("artifact_key", sa.String(length=500), nullable=False),
        sa.Column("manifest_key", sa.String(length=500), nullable=False),
        sa.Column("input_schema", sa.JSON(), nullable=False),
        sa.Column("output_names", sa.JSON(), nullable=False),
        sa.Column("architectures", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("lineage", sa.JSON(), nullable=False),
        sa.Column("quantized", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name", "version", name="uq_model_versions_name_version"),
    )
    op.create_index("ix_model_versions_name", "model_versions", ["name"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_model_versions_name", table_name="model_versions")
    op.drop_table("model_versions")
