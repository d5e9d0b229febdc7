"""Alembic environment: runs on the connection Beacon hands in (never reads a URL itself)."""

from alembic import context

from core.store import all_models  # noqa: F401
from core.store.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
