"""Starter workflows for common jobs, written against the sample company's datasets.

Each is plain definition data (the YAML form), validated like anything a user writes.
A step whose task type is not installed (e.g. forecasting) is left out, so a template
never names a task Beacon cannot run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.workflows.definition import WorkflowDef, from_data
from core.workflows.tasks.base import all_task_types

LAST_WEEK = (
    "with bounds as (select max(order_date) as last_day from sample_orders)\n"
    "select\n"
    "  sum(amount) filter (where order_date > last_day - 7) as revenue,\n"
    "  sum(amount) filter (where order_date <= last_day - 7 and order_date > last_day - 14)"
    " as previous_revenue,\n"
    "  count(distinct order_id) filter (where order_date > last_day - 7) as orders\n"
    "from sample_orders, bounds"
)
BY_CATEGORY = (
    "with bounds as (select max(order_date) as last_day from sample_orders)\n"
    "select category, round(sum(amount), 2) as revenue, count(distinct order_id) as orders\n"
    "from sample_orders, bounds where order_date > last_day - 7\n"
    "group by category order by revenue desc"
)
LOW_STOCK = (
    "select i.sku, p.product_name, i.warehouse, i.on_hand, i.on_order\n"
    "from sample_inventory i join sample_products p using (sku)\n"
    "where i.on_hand <= {{ variables.min_on_hand }}\n"
    "order by i.on_hand, i.sku"
)
DAILY_REVENUE = (
    "select order_date as ds, round(sum(amount), 2) as revenue\n"
    "from sample_orders group by order_date order by ds"
)


def weekly_kpi_email() -> dict[str, Any]:
    return {
        "name": "weekly-kpi-email",
        "description": "Every Monday: last week's revenue and orders, by category, by email.",
        "variables": {"to": "ops@example.com", "alert_below": 100000},
        "triggers": [{"type": "cron", "cron": "0 8 * * MON", "timezone": "Europe/Berlin"}],
        "steps": [
            {"id": "revenue", "type": "query", "params": {"sql": LAST_WEEK}},
            {
                "id": "by_category",
                "type": "export_report",
                "params": {
                    "sql": BY_CATEGORY,
                    "format": "html",
                    "filename": "revenue-by-category",
                    "title": "Revenue by category, last 7 days",
                },
            },
            {
                "id": "mail",
                "type": "notify",
                "depends_on": ["revenue", "by_category"],
                "retry": {"attempts": 3, "backoff_seconds": 60},
                "timeout": 120,
                "params": {
                    "channel": "email",
                    "to": "{{ variables.to }}",
                    "subject": "Weekly revenue: {{ '{:,.0f}'.format(steps.revenue.output.rows[0]"
                    ".revenue) }}",
                    "body": "Revenue last 7 days: {{ '{:,.2f}'.format(steps.revenue.output.rows[0]"
                    ".revenue) }} (the week before: {{ '{:,.2f}'.format(steps.revenue.output"
                    ".rows[0].previous_revenue) }}) from {{ steps.revenue.output.rows[0].orders }}"
                    " orders.\n{% if steps.revenue.output.rows[0].revenue < variables.alert_below"
                    " %}Below the alert level of {{ variables.alert_below }}.{% endif %}",
                    "attach": "{{ steps.by_category.output.path }}",
                },
            },
        ],
    }


def daily_forecast_refresh() -> dict[str, Any]:
    types = all_task_types()
    steps: list[dict[str, Any]] = [
        {
            "id": "refresh",
            "type": "refresh_dataset",
            "params": {"dataset": "sample_orders", "path": "orders/latest.csv"},
            "retry": {"attempts": 3, "backoff_seconds": 300},
        },
        {
            "id": "history",
            "type": "export_report",
            "depends_on": ["refresh"],
            "params": {"sql": DAILY_REVENUE, "format": "csv", "filename": "daily-revenue"},
        },
    ]
    if "forecast" in types:  # added by the forecasting feature when it is installed
        steps.append(
            {
                "id": "forecast",
                "type": "forecast",
                "depends_on": ["refresh"],
                "params": {
                    "dataset": "sample_orders",
                    "horizon": 28,
                    "freq": "D",
                    "save_as": "daily-orders",
                },
            }
        )
    return {
        "name": "daily-forecast-refresh",
        "description": "Every morning: re-ingest the orders file, then refresh the daily series"
        + (" and the forecast." if "forecast" in types else " (forecasts once installed)."),
        "triggers": [{"type": "cron", "cron": "0 6 * * *", "timezone": "UTC"}],
        "steps": steps,
        "policy": {"overlap": "skip"},
    }


def low_stock_alert() -> dict[str, Any]:
    return {
        "name": "low-stock-alert",
        "description": "Every hour: list SKUs at or below the minimum stock and alert the team.",
        "variables": {"min_on_hand": 0, "channel_url": "https://hooks.slack.com/services/..."},
        "triggers": [{"type": "cron", "cron": "0 * * * *", "timezone": "UTC"}],
        "steps": [
            {"id": "low", "type": "query", "params": {"sql": LOW_STOCK, "max_rows": 500}},
            {
                "id": "any_low",
                "type": "condition",
                "depends_on": ["low"],
                "params": {"expr": "{{ steps.low.output.row_count > 0 }}"},
            },
            {
                "id": "report",
                "type": "export_report",
                "depends_on": ["any_low"],
                "when": "{{ steps.any_low.output }}",
                "params": {"sql": LOW_STOCK, "format": "xlsx", "filename": "low-stock"},
            },
            {
                "id": "alert",
                "type": "notify",
                "depends_on": ["report"],
                "retry": {"attempts": 3, "backoff_seconds": 30},
                "params": {
                    "channel": "webhook",
                    "url": "{{ variables.channel_url }}",
                    "subject": "{{ steps.low.output.row_count }} SKU/warehouse pairs at or below"
                    " {{ variables.min_on_hand }} units",
                    "body": "{% for r in steps.low.output.rows[:10] %}{{ r.sku }} {{ r.product_name"
                    " }} @ {{ r.warehouse }}: {{ r.on_hand }} on hand, {{ r.on_order }} on order\n"
                    "{% endfor %}Full list: {{ steps.report.output.path }}",
                },
            },
        ],
        "policy": {"overlap": "skip"},
    }


@dataclass(frozen=True, slots=True)
class Template:
    """A starter workflow: a title, what it does, and its definition."""

    key: str
    title: str
    build: Callable[[], dict[str, Any]]

    def definition(self) -> WorkflowDef:
        return from_data(self.build())


TEMPLATES: dict[str, Template] = {
    t.key: t
    for t in (
        Template("weekly_kpi_email", "Weekly KPI email", weekly_kpi_email),
        Template("daily_forecast_refresh", "Daily forecast refresh", daily_forecast_refresh),
        Template("low_stock_alert", "Low-stock alert", low_stock_alert),
    )
}
