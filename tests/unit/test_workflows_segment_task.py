"""The segment step runs core.segmentation on a catalog dataset and outputs its summary."""

from __future__ import annotations

import pytest

from core.auth.roles import User
from core.errors import NotFound, UserInputError
from core.workflows.tasks.base import StepContext, task_type

SYSTEM = User.system()


def run(services, **params):
    ctx = StepContext(
        services=services, user=SYSTEM, workflow="w", run_id=1, step_id="s", attempt=1
    )
    task = task_type("segment")
    return task.run(ctx, task.params.model_validate(params))


@pytest.fixture
def orders(services, write_file):
    # 12 customers: six loyal (4 orders, recent, large) and six one-off (1 old, small order).
    lines = ["order_id,order_date,customer_id,amount"]
    order = 0
    for c in range(6):
        for day in (3, 10, 17, 24):
            order += 1
            lines.append(f"{order},2024-03-{day:02d},L{c},{200 + c}")
    for c in range(6):
        order += 1
        lines.append(f"{order},2024-01-0{c + 1},O{c},{10 + c}")
    services.catalog.ingest_file(SYSTEM, write_file("orders.csv", "\n".join(lines) + "\n"))


def test_segment_step_summarises_customers(services, orders):
    out = run(services, dataset="orders", k=2, lifetime_value=False)
    assert (out["customers"], out["as_of"], out["k"]) == (12, "2024-03-24", 2)
    assert sum(s["customers"] for s in out["rfm_segments"]) == 12
    clusters = sorted(out["segments"], key=lambda s: s["frequency"])
    assert [c["customers"] for c in clusters] == [6, 6]  # the two groups are recovered
    assert [c["frequency"] for c in clusters] == [1.0, 4.0]
    assert out["clv"] is None and "k_scan" not in out


def test_segment_step_as_of_ignores_later_orders(services, orders):
    out = run(services, dataset="orders", k=2, as_of="2024-02-01", lifetime_value=False)
    assert (out["customers"], out["as_of"]) == (6, "2024-02-01")  # only the one-off buyers


def test_segment_step_bad_input(services, orders):
    with pytest.raises(UserInputError, match="at least 2"):
        run(services, dataset="orders", k=1)
    with pytest.raises(UserInputError, match="YYYY-MM-DD"):
        run(services, dataset="orders", as_of="March")
    with pytest.raises(NotFound):
        run(services, dataset="nope")
