"""Built-in task types; importing this package registers them.

Adding a task type is one module that calls `base.register(...)`, plus its name here.
"""

from importlib import import_module

BUILTIN = (
    "flow",
    "query",
    "kpi",
    "datasets",
    "http",
    "notify",
    "export",
    "segment",
    "copywriting",
    "forecast",
    "supply",
)

for _name in BUILTIN:
    import_module(f"core.workflows.tasks.{_name}")
