"""The app's pages: where each sits in the navigation and the least role that may open it."""

from __future__ import annotations

from dataclasses import dataclass

from core.auth.roles import Role


@dataclass(frozen=True)
class PageSpec:
    """A page of the app, its navigation section and the least role that may open it."""

    path: str
    title: str
    icon: str
    section: str
    role: Role
    default: bool = False


# Sections in the order the sidebar shows them. A page a role may not use is never
# registered (so its URL cannot be reached either); each page re-checks through core.
PAGES = (
    PageSpec(
        "views/kpis.py", "KPIs", ":material/monitoring:", "Analyze", Role.VIEWER, default=True
    ),
    PageSpec("views/segments.py", "Segments", ":material/group:", "Analyze", Role.VIEWER),
    PageSpec("views/forecasts.py", "Forecasts", ":material/trending_up:", "Analyze", Role.VIEWER),
    PageSpec(
        "views/supply_chain.py", "Supply chain", ":material/local_shipping:", "Analyze", Role.VIEWER
    ),
    PageSpec("views/copy_studio.py", "Copy studio", ":material/edit_note:", "Create", Role.VIEWER),
    PageSpec("views/workflows.py", "Workflows", ":material/account_tree:", "Create", Role.VIEWER),
    PageSpec("views/data.py", "Data", ":material/database:", "Data", Role.VIEWER),
    PageSpec("views/admin.py", "Admin", ":material/admin_panel_settings:", "Operate", Role.ADMIN),
    PageSpec("views/fleet.py", "Fleet", ":material/cloud:", "Operate", Role.ADMIN),
    PageSpec("views/edge_models.py", "Edge models", ":material/memory:", "Operate", Role.ADMIN),
    PageSpec("views/rollouts.py", "Rollouts", ":material/rocket_launch:", "Operate", Role.ADMIN),
    PageSpec("views/account.py", "Account", ":material/person:", "Account", Role.VIEWER),
)
SECTIONS = ("Analyze", "Create", "Operate", "Data", "Account")
