"""Imports every module that defines tables, so Alembic and the schema tests see them all.

A feature with its own tables adds its models module here, and a migration whose
`down_revision` is "0001" (each feature is a branch; Beacon upgrades to all heads).
"""

from core.store import models  # noqa: F401
