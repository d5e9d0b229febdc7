"""The Workflows page: build a 3-step workflow in the designer, validate, save, run, see history."""

from __future__ import annotations

from core.auth.roles import Role, User
from core.config import load_settings
from core.services import open_services
from core.workflows import history, service
from core.workflows.definition import from_data
from core.workflows.pool import InlinePool
from core.workflows.worker import Worker
from tests.app.conftest import click, metrics, texts

PAGE = "views/workflows.py"
NEW_STEP = "+ Add a step"


def add_step(at, kind: str, step_id: str):
    at.selectbox(key="wf_f_pick_steps").select(NEW_STEP).run()
    at.selectbox(key="wf_f_new_type").select(kind).run()
    at.text_input(key="wf_f_new_id").input(step_id).run()
    click(at, "Add step")
    assert at.selectbox(key="wf_f_pick_steps").value == step_id
    return at


def finish_runs() -> None:
    """What a worker would do: run every queued step (in this process)."""
    services = open_services(load_settings())
    worker = Worker(services, pool=InlinePool(services), schedule=False)
    runs = history.list_runs(services, User.system())
    assert worker.run_until_done([r.id for r in runs], timeout=60)
    worker.close()


def test_build_validate_save_run_and_see_the_history(app_as, write_file):
    at = app_as(Role.ANALYST, PAGE)
    services = open_services(load_settings())
    services.catalog.ingest_file(
        User.system(), write_file("orders.csv", "order_id,amount\n1,60\n2,70\n3,5\n")
    )
    at.run()
    assert not at.exception
    assert at.selectbox(key="wf_pick").value == "New workflow"
    assert any("No worker is running" in w for w in texts(at.warning))

    at.text_input(key="wf_f_name").input("kpi-flow").run()
    add_step(at, "query", "revenue")
    at.text_area(key="wf_f_steps_revenue_p_sql").input("select sum(amount) as revenue from orders")
    click(at, "Apply changes")
    assert not at.error

    add_step(at, "condition", "big")
    assert at.multiselect(key="wf_f_steps_big_depends_on").value == ["revenue"]
    at.text_input(key="wf_f_steps_big_p_expr").input("{{ steps.revenue.output.rows[0].revenue > ")
    click(at, "Apply changes")
    assert texts(at.error) == [
        "Step 'big': params.expr: template syntax error on line 1: unexpected 'end of template'."
    ]
    at.text_input(key="wf_f_steps_big_p_expr").input(
        "{{ steps.revenue.output.rows[0].revenue > 100 }}"
    )
    click(at, "Apply changes")
    assert not at.error

    add_step(at, "export_report", "report")
    at.text_area(key="wf_f_steps_report_p_sql").input("select * from orders order by order_id")
    at.text_input(key="wf_f_steps_report_when").input("{{ steps.big.output }}")
    click(at, "Apply changes")
    assert not at.error

    click(at, "Validate")
    assert texts(at.success) == ["kpi-flow is valid: 3 step(s); triggers: manual."]
    click(at, "Save")
    assert "Saved kpi-flow as version 1." in texts(at.success)
    assert at.selectbox(key="wf_pick").value == "kpi-flow"
    saved = service.get_workflow(services, User.system(), "kpi-flow").definition
    assert [(s.id, s.type, s.depends_on) for s in saved.steps] == [
        ("revenue", "query", []),
        ("big", "condition", ["revenue"]),
        ("report", "export_report", ["big"]),
    ]
    assert saved.step("report").when == "{{ steps.big.output }}"

    click(at, "Run now")
    assert not at.exception
    assert any("Run 1: queued" in p.text for p in at.get("progress"))
    finish_runs()
    at.run()
    at.run()  # the live view notices the end and shows the history
    assert not at.exception
    tables = [d.value for d in at.dataframe if "step" in d.value.columns]
    assert tables, "the run's steps table"
    assert tables[0][["step", "status", "attempts"]].values.tolist() == [
        ["revenue", "succeeded", "1/1"],
        ["big", "succeeded", "1/1"],
        ["report", "succeeded", "1/1"],
    ]
    shown = metrics(at)
    assert (shown["Runs, last 7 days"], shown["Success rate"], shown["Version"]) == (
        "1",
        "100%",
        "v1",
    )
    assert [e.label for e in at.expander if e.label.startswith("report")] == ["report · succeeded"]


def test_viewers_see_workflows_and_runs_but_no_editor(app_as, make_user):
    services = open_services(load_settings())
    at = app_as(Role.VIEWER, PAGE)
    assert any("There are no workflows yet" in t for t in texts(at.info))
    service.save_workflow(
        services,
        User.system(),
        from_data(
            {"name": "nightly", "steps": [{"id": "nap", "type": "wait", "params": {"seconds": 0}}]}
        ),
    )
    at.run()
    assert not at.exception
    assert at.selectbox(key="wf_pick").options == ["nightly"]
    labels = [b.label for b in at.button]
    assert "Run now" not in labels and "Save" not in labels and "Apply changes" not in labels
    assert "Analysts and admins edit workflows." in [c.value for c in at.caption]


def test_a_template_fills_the_designer(app_as):
    at = app_as(Role.ANALYST, PAGE)
    at.selectbox(key="wf_start").select("Low-stock alert").run()
    click(at, "Use")
    assert at.text_input(key="wf_f_name").value == "low-stock-alert"
    assert at.selectbox(key="wf_f_pick_steps").options == [
        "low",
        "any_low",
        "report",
        "alert",
        NEW_STEP,
    ]
    click(at, "Validate")
    assert texts(at.success) == ["low-stock-alert is valid: 4 step(s); triggers: cron."]
