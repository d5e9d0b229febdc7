"""RFM on a hand-made order log: per-customer values, scores, rules and data checks."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from core.auth.roles import User
from core.errors import PermissionDenied, UserInputError
from core.segmentation import rfm, rules
from core.segmentation.orders import OrderOptions, load_customers
from core.segmentation.pipeline import headline, rfm_segments

SYSTEM = User.system()
TODAY = date(2026, 11, 27)
AS_OF = date(2024, 6, 30)
LOG = """order_id,order_date,customer_id,amount
O1,2024-01-01,A,100
O2,2024-03-01,A,50
O3,2024-06-01,A,70
O4,2024-05-20,B,500
O4,2024-05-20,B,20
O5,2024-02-10,C,30
O6,2024-02-10,C,10
O7,2024-06-10,D,80
O8,2024-06-12,D,-80
O9,2024-04-01,E,60
O10,2024-04-15,E,40
O11,2024-06-25,E,0
O12,2024-06-28,,25
O13,2024-07-15,F,90
O14,2099-01-01,G,10
O15,2024-06-30,H,200
"""


@pytest.fixture
def orders(services, write_file):
    return services.catalog.ingest_file(SYSTEM, write_file("orders.csv", LOG))


def load(services, dataset, **options):
    con = services.catalog.connect()
    try:
        return load_customers(con, SYSTEM, dataset, OrderOptions(today=TODAY, **options))
    finally:
        con.close()


def test_customer_values_by_hand(services, orders):
    table = load(services, orders, as_of=AS_OF)
    c = table.customers.set_index("customer_id")
    assert list(c.index) == ["A", "B", "C", "D", "E", "H"]
    assert c["recency_days"].to_dict() == {"A": 29, "B": 41, "C": 141, "D": 20, "E": 76, "H": 0}
    assert c["tenure_days"].to_dict() == {"A": 181, "B": 41, "C": 141, "D": 20, "E": 90, "H": 0}
    # B's two lines are one order; C's two orders fall on one purchase day.
    assert c["orders"].to_dict() == {"A": 3, "B": 1, "C": 2, "D": 1, "E": 2, "H": 1}
    assert c["purchase_days"].to_dict() == {"A": 3, "B": 1, "C": 1, "D": 1, "E": 2, "H": 1}
    # D's return on 12 June is netted: spend 0. E's zero row and F (after as-of) are left out.
    assert c["revenue"].to_dict() == {"A": 220, "B": 520, "C": 40, "D": 0, "E": 100, "H": 200}
    assert c["repeat_spend"].to_dict() == {"A": 120, "B": 0, "C": 0, "D": 0, "E": 40, "H": 0}
    assert c.loc["A", "aov"] == pytest.approx(220 / 3)
    q = table.quality
    assert (q.rows, q.missing_customer, q.zero_amount, q.returns, q.future, q.after_as_of) == (
        16,
        1,
        1,
        1,
        1,
        1,
    )
    assert table.quality.notes() == [
        "1 rows without a customer ID were left out.",
        "1 rows with a zero amount were left out.",
        "1 rows dated after today were left out (future dates).",
        "1 rows after the as-of date were left out.",
        "1 rows with a negative amount (returns) were netted into customers' spend.",
    ]


def test_returns_can_be_left_out(services, orders):
    c = load(services, orders, as_of=AS_OF, returns="exclude").customers.set_index("customer_id")
    assert c.loc["D", "revenue"] == 80
    assert (
        "were left out"
        in load(services, orders, as_of=AS_OF, returns="exclude").quality.notes()[-1]
    )


def test_default_as_of_is_the_latest_purchase_not_in_the_future(services, orders):
    table = load(services, orders)
    assert table.as_of == date(2024, 7, 15)  # F's order; the 2099 row is a future date
    assert table.quality.future == 1 and table.quality.after_as_of == 0


def test_rfm_scores_by_hand(services, orders):
    scored = rfm.score(load(services, orders, as_of=AS_OF).customers).scores.set_index(
        "customer_id"
    )
    # Recency, no ties: ranks C < E < B < A < D < H; 6 customers -> scores 1,1,2,3,4,5.
    assert scored["r_score"].to_dict() == {"C": 1, "E": 1, "B": 2, "A": 3, "D": 4, "H": 5}
    # Monetary total: D 0 < C 40 < E 100 < H 200 < A 220 < B 520.
    assert scored["m_score"].to_dict() == {"D": 1, "C": 1, "E": 2, "H": 3, "A": 4, "B": 5}
    # Frequency ties: B, D, H (1 order) share ranks 0-2, C and E (2) ranks 3-4, A rank 5.
    f = scored["f_score"]
    assert sorted(f[["B", "D", "H"]]) == [1, 1, 2] and sorted(f[["C", "E"]]) == [3, 4]
    assert f["A"] == 5
    ties = dict(zip(scored.index, rfm.tie_breaker(scored.index), strict=True))
    assert f[max(["B", "D", "H"], key=ties.get)] == 2  # the tie order is the documented hash
    assert f[max(["C", "E"], key=ties.get)] == 4


def test_average_monetary_uses_order_value(services, orders):
    table = load(services, orders, as_of=AS_OF, monetary="average")
    scored = rfm.score(table.customers).scores.set_index("customer_id")
    # Average order value: D 0 < C 20 < E 50 < A 73.3 < H 200 < B 520.
    assert scored["m_score"].to_dict() == {"D": 1, "C": 1, "E": 2, "A": 3, "H": 4, "B": 5}


def test_quintiles_hold_a_fifth_each_even_with_ties():
    values = np.array([1] * 70 + [2] * 20 + [5] * 10)
    scores = rfm.quintile_scores(values, np.arange(100)[::-1])
    assert np.bincount(scores)[1:].tolist() == [20, 20, 20, 20, 20]
    assert set(scores[values == 5]) == {5} and set(scores[values == 1]) == {1, 2, 3, 4}
    edges = rfm.score_edges(
        pd.DataFrame(
            {
                "recency_days": values,
                "orders": values,
                "monetary": values,
                "r_score": scores,
                "f_score": scores,
                "m_score": scores,
            }
        )
    )
    assert rfm.shared_boundaries(edges) == ["recency_days", "orders", "monetary"]


STANDARD_GRID = [  # rows R 5..1, columns F 1..5, written out from the standard chart
    ["New Customers", "Potential Loyalists", "Potential Loyalists", "Champions", "Champions"],
    [
        "Promising",
        "Potential Loyalists",
        "Potential Loyalists",
        "Loyal Customers",
        "Loyal Customers",
    ],
    ["About to Sleep", "About to Sleep", "Need Attention", "Loyal Customers", "Loyal Customers"],
    ["Hibernating", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"],
    ["Hibernating", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"],
]


def test_standard_rules_cover_the_grid_as_published():
    assert rules.grid(rules.STANDARD_RULES).to_numpy().tolist() == STANDARD_GRID
    r = np.repeat(np.arange(5, 0, -1), 5)
    f = np.tile(np.arange(1, 6), 5)
    assigned = rules.assign(r, f, rules.STANDARD_RULES).reshape(5, 5).tolist()
    assert assigned == STANDARD_GRID
    assert rules.shadowed(rules.STANDARD_RULES) == []


def test_named_segments_on_a_log_without_ties(services):
    rows = []
    for customer, orders, last in (
        ("P", 5, 0),
        ("Q", 4, 10),
        ("R", 1, 20),
        ("S", 2, 30),
        ("T", 3, 40),
    ):
        for i in range(orders):
            day = pd.Timestamp("2024-06-30") - pd.Timedelta(days=last + 7 * i)
            rows.append(
                {
                    "order_id": f"{customer}{i}",
                    "order_date": day,
                    "customer_id": customer,
                    "amount": 10.0 * (i + 1),
                }
            )
    dataset = services.catalog.ingest_frame(SYSTEM, pd.DataFrame(rows), "five", "hand-made")
    segments = rfm_segments(load(services, dataset), rules.STANDARD_RULES)
    got = segments.customers.set_index("customer_id")
    assert got["r_score"].to_dict() == {"P": 5, "Q": 4, "R": 3, "S": 2, "T": 1}
    assert got["f_score"].to_dict() == {"P": 5, "Q": 4, "R": 1, "S": 2, "T": 3}
    assert got["segment"].to_dict() == {
        "P": "Champions",
        "Q": "Loyal Customers",
        "R": "About to Sleep",
        "S": "Hibernating",
        "T": "At Risk",
    }
    table = segments.summary.set_index("segment")
    assert table.loc["Champions", "customers"] == 1 and table.loc["Champions", "share"] == 0.2
    # Revenue: P 150, Q 100, R 10, S 30, T 60.
    assert table.loc["Champions", "revenue_share"] == pytest.approx(150 / 350)
    assert table.loc["Need Attention", "customers"] == 0
    top = headline(segments)
    assert (top.top_segment, top.top_share, top.at_risk_customers) == ("Champions", 0.2, 1)
    assert top.repeat_share == pytest.approx(0.8)

    renamed = [rules.SegmentRule("VIPs", 5, 5, 4, 5), *rules.STANDARD_RULES[1:]]
    assert rfm_segments(load(services, dataset), renamed).customers["segment"].iloc[0] == "VIPs"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda rs: rs[:-1], "No rule covers R2 F1, R2 F2, R1 F1, R1 F2: widen a rule"),
        (lambda rs: [*rs, rules.SegmentRule("champions", 1, 1, 1, 1)], "Two rules are named"),
        (lambda rs: [rules.SegmentRule(" ", 1, 5, 1, 5)], "Rule 1 has no name"),
        (lambda rs: [rules.SegmentRule("All", 0, 5, 1, 5)], "scores run from 1 to 5"),
        (lambda rs: [rules.SegmentRule("All", 4, 2, 1, 5)], "lowest score is above"),
        (lambda rs: [], "at least one rule"),
    ],
)
def test_bad_rule_sets_are_refused_with_what_to_fix(edit, message):
    with pytest.raises(UserInputError, match=message):
        rules.validate(edit(list(rules.STANDARD_RULES)))


def test_rules_from_an_edited_table():
    frame = rules.rules_frame(rules.STANDARD_RULES)
    frame.loc[0, "name"] = "  VIPs "
    frame.loc[len(frame)] = [None] * 6  # a blank row added in the editor is ignored
    parsed = rules.rules_from_frame(frame)
    assert parsed[0].name == "VIPs" and len(parsed) == 10
    frame.loc[1, "r_min"] = None
    with pytest.raises(UserInputError, match="Rule 2: give whole-number scores"):
        rules.rules_from_frame(frame)
    everything = [rules.SegmentRule("Everyone", 1, 5, 1, 5), *rules.STANDARD_RULES]
    assert rules.shadowed(everything) == [r.name for r in rules.STANDARD_RULES]


@pytest.mark.parametrize(
    ("log", "options", "message"),
    [
        (
            "order_date,customer_id,amount\n2024-01-01,A,5\n2024-01-02,A,6\n",
            {},
            "at least 2 customers with purchases on or before 2024-01-02; single has 1",
        ),
        (
            "order_date,customer_id,amount\n2024-01-01,A,-5\n2024-01-02,B,0\n",
            {},
            "no purchases \\(positive amounts\\)",
        ),
        (
            "order_date,customer_id,amount\n2024-01-01,A,5\n2024-01-02,B,6\n",
            {"as_of": date(2023, 1, 1)},
            "no orders on or before 2023-01-01: the first order is on",
        ),
        (
            "order_date,customer_id,amount\n2024-01-01,A,5\n2024-01-02,B,6\n",
            {"as_of": date(2027, 1, 1)},
            "as-of date 2027-01-01 is in the future",
        ),
    ],
    ids=["single customer", "only returns", "as-of too early", "as-of in the future"],
)
def test_bad_order_logs_get_one_clear_line(services, write_file, log, options, message):
    dataset = services.catalog.ingest_file(SYSTEM, write_file("single.csv", log))
    with pytest.raises(UserInputError, match=message):
        load(services, dataset, **options)


def test_missing_roles_and_viewer_rights(services, write_file, make_user):
    from core.auth.roles import Role

    dataset = services.catalog.ingest_file(
        SYSTEM, write_file("visits.csv", "day,page\n2024-01-01,a\n")
    )
    with pytest.raises(UserInputError, match="needs columns with the roles customer_id, amount"):
        load(services, dataset)
    inactive = User(id=99, email="gone@example.com", role=Role.VIEWER, active=False)
    with pytest.raises(PermissionDenied):
        load_customers(services.catalog.connect(), inactive, dataset, OrderOptions())
    viewer = make_user(Role.VIEWER)
    with pytest.raises(UserInputError, match="needs columns"):  # viewers may read; roles missing
        load_customers(services.catalog.connect(), viewer, dataset, OrderOptions())


def test_option_typos_are_user_errors():
    with pytest.raises(UserInputError, match="Monetary is 'total' or 'average'"):
        OrderOptions(monetary="sum")
    with pytest.raises(UserInputError, match="Returns are 'net' or 'exclude'"):
        OrderOptions(returns="drop")


def test_compare_dates_on_the_hand_made_log(services, orders):
    from core.segmentation import migration
    from core.segmentation.pipeline import compare_dates

    con = services.catalog.connect()
    moved = compare_dates(
        con,
        SYSTEM,
        orders,
        OrderOptions(as_of=AS_OF, today=TODAY),
        date(2024, 3, 31),
        rules.STANDARD_RULES,
    )
    # Known on 31 March: A (1 Jan, 1 Mar) and C (10 Feb); B, D, E and H came later.
    assert moved.matrix.to_numpy().sum() == 6
    assert moved.matrix.loc[migration.NEW].sum() == 4
    assert sorted(
        moved.customers.loc[moved.customers["from_segment"] == migration.NEW, "customer_id"]
    ) == ["B", "D", "E", "H"]
    assert (moved.before, moved.after) == (date(2024, 3, 31), AS_OF)
