"""Imports every module that defines tables, so Alembic and the schema tests see them all.

A feature with its own tables adds its models module here, and a migration whose
`down_revision` is "0001" (each feature is a branch; Beacon upgrades to all heads).
"""

from core.copy import models as copy_models  # noqa: F401
from core.fleet import models as fleet_models  # noqa: F401
from core.fleet import registry_models as fleet_registry_models  # noqa: F401
from core.fleet import rollout_models as fleet_rollout_models  # noqa: F401
from core.forecasting import models as forecasting_models  # noqa: F401
from core.kpis import models as kpis_models  # noqa: F401
from core.segmentation import models as segmentation_models  # noqa: F401
from core.store import models  # noqa: F401
from core.supply_chain import models as supply_models  # noqa: F401
from core.workflows import models as workflows_models  # noqa: F401
