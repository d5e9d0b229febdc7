"""Which datasets feed the Supply chain page, and its cached computations.

Every cached function is keyed on the chosen datasets' names and versions (a new
version is new data) plus the settings that change the answer; results are immutable.
"""

from __future__ import annotations

import streamlit as st

from components.resources import services
from core.auth.roles import User
from core.data.samples import SAMPLE_PREFIX
from core.forecasting import runs as forecast_runs
from core.supply_chain import carbon, demand, inputs, risks, scenarios, simulation, suppliers
from core.supply_chain.carbon import FactorTable
from core.supply_chain.demand import DemandForecast
from core.supply_chain.inputs import SupplyInputs
from core.supply_chain.policy import PolicyResult, PolicySettings, compute_policy

KEY = "supply_sources"
Sources = tuple[tuple[str, int], ...]  # (dataset name, version) pairs: the cache key


def candidates(user: User) -> dict[str, str]:
    """Datasets that can be a supply-chain table: name -> table (orders, skus, ...)."""
    found: dict[str, str] = {}
    for dataset in services().catalog.datasets(user):
        kind = inputs.classify(dataset)
        if kind is not None:
            found[dataset.name] = kind[0]
    return found


def pick(user: User) -> Sources:
    """The datasets chosen in the sidebar (the sample company's by default)."""
    options = candidates(user)
    if not options:
        return ()
    sample = [n for n in options if n.startswith(SAMPLE_PREFIX)]
    default = sample or _first_per_table(options)
    if any(n not in options for n in st.session_state.get(KEY, [])):
        st.session_state.pop(KEY)
    with st.sidebar:
        chosen = st.multiselect(
            "Datasets",
            list(options),
            default=default,
            key=KEY,
            format_func=lambda n: f"{n} ({options[n]})",
            help="Orders, inventory, SKU master, supplier master and shipments; any subset works.",
        )
    versions = {d.name: d.version for d in services().catalog.datasets(user)}
    return tuple((n, versions[n]) for n in chosen)


def _first_per_table(options: dict[str, str]) -> list[str]:
    seen: dict[str, str] = {}
    for name, table in options.items():
        seen.setdefault(table, name)
    return list(seen.values())


def explain_missing(data: SupplyInputs, view: str) -> bool:
    """Say what a view lacks (warnings for what it needs, captions for what it could use).

    Returns True when the view cannot be shown at all.
    """
    for line in inputs.missing_for(data, view):
        (st.warning if line.startswith("Needs") else st.caption)(line)
    return not inputs.ready_for(data, view)


@st.cache_data(max_entries=8, show_spinner=False)
def load(sources: Sources, _user: User) -> SupplyInputs:
    """The supply-chain tables of these dataset versions."""
    return inputs.load_inputs(services(), _user, [name for name, _ in sources])


@st.cache_data(max_entries=16, show_spinner=False)
def scorecard(sources: Sources, weights: tuple[tuple[str, float], ...], _data: SupplyInputs):
    """Supplier scorecards with these weights."""
    return suppliers.scorecard(_data, dict(weights))


@st.cache_data(max_entries=16, show_spinner=False)
def assessment(
    sources: Sources,
    policy_key: tuple,
    countries: tuple[tuple[str, tuple[int, str]], ...],
    certifications: tuple[str, ...],
    _data: SupplyInputs,
    _policy,
) -> risks.RiskAssessment:
    """The risk assessment of these inputs, policy and admin tables."""
    settings = risks.RiskSettings(
        country_table=dict(countries), required_certifications=certifications
    )
    return risks.assess(_data, _policy, settings)


@st.cache_data(max_entries=8, show_spinner=False)
def emissions(sources: Sources, table: FactorTable, _data: SupplyInputs) -> carbon.CarbonResult:
    """Transport emissions with this factor table (a frozen value: part of the key)."""
    return carbon.emissions(_data.shipments, table, _data.skus)


FAST = "Fast model set (every SKU)"


def demand_source(user: User, data: SupplyInputs, freq: str) -> int | None:
    """The sidebar's demand choice: None for the fast set, else a saved forecast run's id."""
    found = data.origin_of("orders", "sku")
    if found is None:
        return None
    run = demand.find_saved_run(services().store, user, *found, freq)
    if run is None:
        return None
    saved = f"Saved forecast run “{run.name}” ({run.created_at:%Y-%m-%d})"
    with st.sidebar:
        choice = st.radio(
            "Demand from",
            [FAST, saved],
            key="supply_demand_source",
            help="A weekly forecast per SKU saved on the Forecasts page can stand in for "
            "the fast models; SKUs it does not cover use the fast set.",
        )
    return None if choice == FAST else run.id


@st.cache_data(max_entries=8, show_spinner=False)
def forecast(
    sources: Sources,
    freq: str,
    horizon: int,
    _data: SupplyInputs,
    run_id: int | None = None,
    _user: User | None = None,
) -> DemandForecast:
    """Demand per SKU: the fast model set, or the saved run `run_id` where it has the SKU."""
    saved = None if run_id is None else forecast_runs.get_run(services().store, _user, run_id)
    return demand.forecast_demand(_data.orders, freq=freq, horizon=horizon, saved_run=saved)


@st.cache_data(max_entries=8, show_spinner=False)
def policy(
    sources: Sources,
    settings: PolicySettings,
    _data: SupplyInputs,
    run_id: int | None = None,
    _user: User | None = None,
) -> PolicyResult:
    """The inventory policy of these inputs and settings."""
    found = forecast(sources, settings.freq, settings.horizon, _data, run_id, _user)
    return compute_policy(_data, found, settings)


@st.cache_data(max_entries=16, show_spinner=False)
def compare(
    sources: Sources,
    scenario: scenarios.Scenario,
    settings: PolicySettings,
    table: FactorTable,
    _data: SupplyInputs,
    run_id: int | None = None,
    _user: User | None = None,
) -> scenarios.Comparison:
    """Base case and scenario side by side."""
    demand_forecast = forecast(sources, settings.freq, settings.horizon, _data, run_id, _user)
    return scenarios.compare(_data, demand_forecast, scenario, settings, factor_table=table)


@st.cache_data(max_entries=32, show_spinner=False)
def simulate(s: float, q: float, d: float, sd: float, lt: float, lt_sd: float):
    """Monte Carlo of one SKU's (s, Q) policy (500 runs of 520 periods, fixed seed)."""
    return simulation.simulate_sq(s, q, d, sd, lt, lt_sd, periods=520, runs=500, seed=0)
