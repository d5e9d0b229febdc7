"""KPIs: metric definitions, query building, period comparison, targets, anomalies, cohorts.

Public modules:
    metrics     the metric registry (built-ins, column metrics) and formulas
    custom      analysts' custom metrics, saved per dataset
    source      KPI sources (catalog datasets, warehouse tables) and query runners
    base        the filtered rows every query aggregates (fixed column names, bound values)
    queries     totals, series, breakdowns and dimension values
    periods     date presets and like-for-like comparison windows
    grains      day/week/month/quarter/year periods
    anomalies   robust anomaly bands
    cohorts     cohort retention
    targets     targets and their states
    views       shareable URL parameters and saved views
    warehouse   external SQLAlchemy connections and tables
    dashboard   the page's query set: cards and series with bands
    cli         `python -m core kpis`
"""
