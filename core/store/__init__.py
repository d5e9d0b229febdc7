"""App state: SQLAlchemy models, sessions and Alembic migrations."""

from core.store.db import Store, make_engine, migrate, open_store

__all__ = ["Store", "make_engine", "migrate", "open_store"]
