"""The composition root for core: settings -> store -> catalog, built once per process."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from core.auth.users import LockoutPolicy
from core.config import Settings, load_settings
from core.data.catalog import Catalog
from core.store import Store, open_store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Services:
    """What every entry point (app, CLI, worker, API) works with."""

    settings: Settings
    store: Store
    catalog: Catalog

    @property
    def lockout(self) -> LockoutPolicy:
        return LockoutPolicy(self.settings.lockout_attempts, self.settings.lockout_minutes)


def open_services(settings: Settings | None = None) -> Services:
    """Open the store (applying migrations) and the catalog; tidy leftovers of crashes."""
    settings = settings or load_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    store = open_store(settings.database_url)
    catalog = Catalog(store, settings)
    removed = catalog.sweep()
    if removed:
        log.info("removed %d leftover dataset files", removed)
    return Services(settings=settings, store=store, catalog=catalog)
