"""fleet rollouts: rollouts, rollout devices, device model states

Revision ID: fleet_rollouts_0001
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "fleet_rollouts_0001"
down_revision = "0001"
branch_labels = ("fleet_rollouts",)
depends_on = ("fleet_0001", "fleet_models_0001")


def upgrade() -> None:
    op.create_table(
        "rollouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_name", sa.String(length=100), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("wave", sa.Integer(), nullable=False),
        sa.Column("waves", sa.Integer(), nullable=False),
        sa.Column("wave_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("gate", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_rollouts_model_name", "rollouts", ["model_name"], unique=False)
    op.create_index("ix_rollouts_state", "rollouts", ["state"], unique=False)
    op.create_table(
        "rollout_devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rollout_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("wave", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("previous_version", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["rollout_id"], ["rollouts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("rollout_id", "device_id"),
    )
    op.create_index(
        "ix_rollout_devices_rollout_id", "rollout_devices", ["rollout_id"], unique=False
    )
    op.create_table(
        "device_model_states",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("model_name", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("errors", sa.BigInteger(), nullable=False),
        sa.Column("p95_ms", sa.Float(), nullable=True),
        sa.Column("endpoint", sa.String(length=300), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("device_id", "model_name"),
    )
    op.create_index(
        "ix_device_model_states_model_name", "device_model_states", ["model_name"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_device_model_states_model_name", table_name="device_model_states")
    op.drop_table("device_model_states")
    op.drop_index("ix_rollout_devices_rollout_id", table_name="rollout_devices")
    op.drop_table("rollout_devices")
    op.drop_index("ix_rollouts_state", table_name="rollouts")
    op.drop_index("ix_rollouts_model_name", table_name="rollouts")
    op.drop_table("rollouts")
