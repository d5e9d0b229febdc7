"""`python -m core supply SOURCE... --json`: inventory policy per SKU and the risk register.

SOURCE are dataset names (orders, inventory, SKU master, supplier master, shipments;
any subset). The risks carry the register's owner, status, due date and notes when the
register has them; the command reads the register, it does not change it.
"""

from __future__ import annotations

import argparse
import math

from core.auth.roles import User
from core.cli import emit
from core.services import Services
from core.supply_chain import overview
from core.supply_chain import register as risk_register
from core.supply_chain.inputs import load_inputs
from core.supply_chain.policy import PolicySettings


def _num(value, spec: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return format(value, spec)


def _text(payload: dict) -> str:
    lines = [f"{'sku':<14}{'safety':>10}{'reorder':>10}{'eoq':>10}{'cover d':>9}{'P(out)':>8}"]
    for row in payload["policy"]:
        lines.append(
            f"{str(row['sku'])[:13]:<14}{_num(row['safety_stock'], ',.0f'):>10}"
            f"{_num(row['reorder_point'], ',.0f'):>10}{_num(row.get('eoq'), ',.0f'):>10}"
            f"{_num(row['days_of_cover'], ',.0f'):>9}{_num(row['stockout_probability'], '.0%'):>8}"
        )
    if not payload["policy"]:
        lines = ["(no inventory policy)"]
    lines.append("")
    lines.append(f"risks ({len(payload['risks'])}), highest first:")
    for r in payload["risks"]:
        lines.append(
            f"  {r['score']:>2} L{r['likelihood']} I{r['impact']} {r['type']:<22} {r['subject']}"
            f"  [{r.get('status', 'open')}]"
        )
    for view, missing in payload["missing"].items():
        lines += [f"note ({view}): {m}" for m in missing]
    return "\n".join(lines)


def handle(args: argparse.Namespace, services: Services) -> None:
    system = User.system()
    data = load_inputs(services, system, args.source)
    settings = PolicySettings(service_level=args.service_level, fill_rate=args.fill_rate).checked()
    check = overview.run_for(services.store, system, data, settings)
    overview.require_any(check)
    entries = None
    if check.assessment is not None:
        scope = overview.register_scope(data)
        entries = risk_register.merged(services.store, system, scope, check.assessment)
    payload = {
        "sources": check.sources,
        "service_level": settings.service_level,
        "fill_rate": settings.fill_rate,
        "policy": overview.policy_rows(check),
        "risks": overview.risk_rows(check, entries),
        "skipped_rules": [
            {"rule": label, "reason": why}
            for label, why in (check.assessment.skipped if check.assessment else ())
        ],
        "carbon": None
        if check.emissions is None
        else {
            "kg_co2e": round(check.emissions.total_kg, 3),
            "factor_table_version": check.emissions.table_version,
            "factor_table": check.emissions.table_name,
        },
        "missing": {view: lines for view, lines in check.missing.items() if lines},
    }
    emit(args, payload, _text(payload))


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("give a fraction, e.g. 0.95") from None
    return value


def register(add_command) -> None:
    """Add the `supply` command to the CLI."""
    p = add_command("supply", "inventory policy per SKU and the supply risk register", handle)
    p.add_argument(
        "source", nargs="+", help="dataset names (orders, inventory, SKUs, suppliers, shipments)"
    )
    p.add_argument(
        "--service-level", type=_fraction, default=0.95, help="cycle service level (0-1)"
    )
    p.add_argument(
        "--fill-rate",
        type=_fraction,
        help="target share of demand met from stock (0-1); replaces the service level",
    )
