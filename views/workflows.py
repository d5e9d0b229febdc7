"""Workflows: design automations, run them now or on triggers, and inspect every run."""

from __future__ import annotations

import streamlit as st

from components import downloads, errors, session, workflow_charts, workflow_editor
from components.resources import services
from core.auth.roles import Role
from core.store.models import utcnow
from core.workflows import history, service
from core.workflows.definition import from_data, to_data, to_yaml
from core.workflows.templates import TEMPLATES

NEW = "New workflow"
STATUSES = ["succeeded", "failed", "running", "queued", "cancelled", "skipped"]
FINISHED_STEP = ("succeeded", "failed", "skipped", "cancelled", "upstream_failed")

user = session.require_role(Role.VIEWER, "Viewing workflows")
svc = services()
can_edit = user.can(Role.ANALYST)
lease = svc.settings.workflows.lease_seconds

st.title("Workflows")
st.caption(
    "Automate recurring work (refresh data, check KPIs, export reports, notify people) on a "
    "schedule, when a file arrives, when a metric crosses a line or after another workflow."
)
if message := st.session_state.pop("wf_message", None):
    st.success(message, icon=":material/check_circle:")

workflows = {w.name: w for w in service.list_workflows(svc, user)}
online = [
    w
    for w in history.workers(svc, user)
    if w.stopped_at is None and (utcnow() - w.last_seen).total_seconds() <= lease
]

with st.sidebar:
    options = ([NEW] if can_edit else []) + list(workflows)
    if "wf_pick_next" in st.session_state:
        st.session_state["wf_pick"] = st.session_state.pop("wf_pick_next")
    if st.session_state.get("wf_pick") not in options and options:
        st.session_state["wf_pick"] = options[1] if len(options) > 1 and can_edit else options[0]
    name = st.selectbox("Workflow", options, key="wf_pick") if options else None
    days = st.segmented_control(
        "Period", [7, 30, 90], default=7, key="wf_days", format_func=lambda d: f"{d} days"
    )
    shown_statuses = st.multiselect("Run status", STATUSES, key="wf_status", placeholder="All")

if name is None:
    st.info("There are no workflows yet. Analysts and admins create them on this page.")
    st.stop()

if online:
    st.caption(f"{len(online)} worker(s) online · {sum(w.steps_done for w in online):,} steps run")
else:
    st.warning(
        "No worker is running, so runs wait in the queue. Start one with `make worker` "
        "(or `python -m core worker`).",
        icon=":material/engineering:",
    )


def datasets_help() -> None:
    """Which datasets SQL steps can read, with their columns."""
    with st.expander("Datasets SQL steps can query (by name)"):
        for dataset in svc.catalog.datasets(user):
            columns = ", ".join(c.name for c in dataset.columns)
            st.markdown(f"**{dataset.name}** · {dataset.rows:,} rows  \n`{columns}`")


def validate_and_save(draft: dict) -> None:
    """The designer's two actions: check the draft, or save it as a new version."""
    with st.container(horizontal=True):
        check = st.button("Validate", key="wf_validate", icon=":material/rule:")
        save = st.button("Save", key="wf_save", type="primary", icon=":material/save:")
    if check:
        with errors.shown():
            definition = from_data(draft)
            kinds = ", ".join(t.type for t in definition.triggers)
            st.success(
                f"{definition.name} is valid: {len(definition.steps)} step(s); triggers: {kinds}.",
                icon=":material/task_alt:",
            )
    if save:
        with errors.shown():
            info = service.save_workflow(svc, user, from_data(draft))
            st.session_state["wf_pick_next"] = info.name
            st.session_state["wf_message"] = f"Saved {info.name} as version {info.version}."
            st.session_state.pop("wf_draft_of", None)
            st.rerun()


def new_workflow() -> None:
    """Start from a template, YAML or a blank page; then the designer."""
    with st.container(border=True):
        st.markdown("**Start from**")
        starts = {"Blank": None} | {t.title: t for t in TEMPLATES.values()}
        with st.container(horizontal=True, vertical_alignment="bottom"):
            start = st.selectbox("Template", list(starts), key="wf_start")
            if st.button("Use", key="wf_use_template"):
                template = starts[start]
                workflow_editor.load(template.build() if template else workflow_editor.blank())
                st.session_state["wf_draft_of"] = NEW
                st.rerun()
        if starts[start] is not None:
            st.caption(starts[start].definition().description)
        with st.expander("Import YAML"):
            text = st.text_area("Workflow YAML", key="wf_import_text", height=200)
            if st.button("Import", key="wf_import", disabled=not text.strip()):
                with errors.shown():
                    info = service.import_yaml(svc, user, text)
                    st.session_state["wf_pick_next"] = info.name
                    st.session_state["wf_message"] = f"Imported {info.name} (v{info.version})."
                    st.rerun()
    if st.session_state.get("wf_draft_of") != NEW:
        workflow_editor.load(workflow_editor.blank())
        st.session_state["wf_draft_of"] = NEW
    datasets_help()
    draft = workflow_editor.show()
    validate_and_save(draft)


if name == NEW:
    new_workflow()
    st.stop()

info = workflows[name]
definition_data = to_data(info.definition)
labels = workflow_editor.task_labels()


@st.fragment(run_every=1.5)
def live_progress(run_id: int) -> None:
    """The run just started, step by step, until it finishes."""
    detail = history.run_detail(svc, user, run_id)
    main = [s for s in detail.steps if s.phase == "main"]
    done = sum(s.status in FINISHED_STEP for s in main)
    st.progress(
        done / len(main) if main else 1.0,
        text=f"Run {run_id}: {detail.run.status} · {done} of {len(main)} steps done",
    )
    statuses = {s.step_id: s.status for s in detail.steps}
    st.graphviz_chart(workflow_charts.dag_dot(definition_data, statuses, labels))
    if detail.run.finished:
        st.session_state.pop("wf_live", None)
        st.session_state["wf_run_next"] = run_id
        st.rerun()


def pp_delta(now: float, before: float) -> str | int:
    """A change of rate in percentage points; the number 0 shows as flat, not green."""
    points = round((now - before) * 100)
    return f"{points:+d} pp" if points else 0


# --- summary -------------------------------------------------------------------------------
stats = history.run_stats(svc, user, name, days=days or 7)
states = service.trigger_states(svc, user, name)
upcoming = [s.next_due for s in states if s.kind in ("cron", "interval") and s.next_due]
with st.container(horizontal=True):
    st.metric(
        f"Runs, last {stats.days} days",
        f"{stats.runs:,}",
        delta=stats.runs - stats.previous_runs,
        delta_description=f"vs the {stats.days} days before",
        chart_data=list(stats.daily),
        chart_type="bar",
        border=True,
    )
    previous = stats.previous_success_rate
    comparable = stats.success_rate is not None and previous is not None
    st.metric(
        "Success rate",
        f"{stats.success_rate:.0%}" if stats.success_rate is not None else "–",
        delta=pp_delta(stats.success_rate, previous) if comparable else None,
        delta_description=f"vs the {stats.days} days before" if comparable else None,
        border=True,
        help="Succeeded among finished runs (cancelled and skipped runs not counted)",
    )
    st.metric(
        "Median duration",
        f"{stats.median_seconds:.1f} s" if stats.median_seconds is not None else "–",
        border=True,
    )
    st.metric(
        "Next scheduled run",
        f"{min(upcoming):%Y-%m-%d %H:%M} UTC"
        if upcoming
        else ("On demand" if info.enabled else "Off"),
        border=True,
        help=f"Triggers: {', '.join(t.type for t in info.definition.triggers)}",
    )
    st.metric("Version", f"v{info.version}", border=True, help=f"Runs act as {info.owner}")

if info.description:
    st.caption(info.description)
if can_edit:
    with st.container(horizontal=True, vertical_alignment="center"):
        if st.button("Run now", key="wf_run_now", type="primary", icon=":material/play_arrow:"):
            with errors.shown():
                run = history.start_run(svc, user, name)
                if run.status == "skipped":
                    st.warning(run.error)
                else:
                    st.session_state["wf_live"] = run.id
        enabled = st.toggle("Triggers on", value=info.enabled, key=f"wf_enabled_{name}")
        if enabled != info.enabled:
            with errors.shown():
                service.set_enabled(svc, user, name, enabled)
                st.rerun()
if "wf_live" in st.session_state:
    with st.container(border=True):
        live_progress(st.session_state["wf_live"])

# --- main chart ----------------------------------------------------------------------------
runs = history.list_runs(svc, user, name, limit=500)
frame = workflow_charts.runs_frame(runs)
if shown_statuses:
    frame = frame[frame["status"].isin(shown_statuses)]
if frame.empty:
    st.info("No runs yet: use Run now, or wait for a trigger.")
else:
    st.plotly_chart(workflow_charts.runs_figure(frame, f"Runs of {name}"), key="wf_runs_chart")
    with st.expander("Table view"):
        st.dataframe(frame, hide_index=True, alt=f"Runs of {name}")
        downloads.table_csv(frame, f"{name}_runs.csv", key="wf_runs_csv")

# --- details -------------------------------------------------------------------------------
tab_names = ["Runs", "Designer", "YAML", "Triggers", "Versions"]
tabs = dict(zip(tab_names, st.tabs(tab_names), strict=True))

with tabs["Runs"]:
    if not runs:
        st.caption("Runs appear here with each step's status, attempts, logs and output.")
    else:
        by_id = {r.id: r for r in runs}
        if st.session_state.get("wf_run_next") in by_id:
            st.session_state["wf_run"] = st.session_state.pop("wf_run_next")
        if st.session_state.get("wf_run") not in by_id:
            st.session_state["wf_run"] = runs[0].id
        run_id = st.selectbox(
            "Run",
            list(by_id),
            key="wf_run",
            format_func=lambda i: (
                f"#{i} · {by_id[i].status} · {by_id[i].trigger} · "
                f"{by_id[i].created_at:%Y-%m-%d %H:%M:%S}"
            ),
        )
        detail = history.run_detail(svc, user, run_id)
        if detail.run.error:
            (st.error if detail.run.status == "failed" else st.info)(detail.run.error)
        statuses = {s.step_id: s.status for s in detail.steps}
        run_definition = to_data(service.definition_at(svc, user, name, detail.run.version))
        st.graphviz_chart(workflow_charts.dag_dot(run_definition, statuses, labels))
        st.dataframe(
            [
                {
                    "step": s.step_id,
                    "type": labels.get(s.type, s.type),
                    "status": s.status,
                    "attempts": f"{s.attempt}/{s.max_attempts}",
                    "duration_ms": s.duration_ms,
                    "output": "reused" if s.reused else "",
                    "error": s.error,
                }
                for s in detail.steps
            ],
            hide_index=True,
            alt=f"Steps of run {run_id}",
        )
        for step in detail.steps:
            with st.expander(f"{step.step_id} · {step.status}"):
                if step.next_attempt_at and step.status == "ready":
                    st.caption(f"Next try at {step.next_attempt_at:%Y-%m-%d %H:%M:%S} UTC")
                if step.output is not None:
                    st.caption(
                        "Output" + (" (trimmed to the size limit)" if step.output_truncated else "")
                    )
                    st.json(step.output, expanded=False)
                for attempt in step.attempts:
                    took = f"{attempt.duration_ms} ms" if attempt.duration_ms is not None else ""
                    st.caption(
                        f"Attempt {attempt.attempt} · {attempt.status} · {took} · {attempt.worker}"
                    )
                    if attempt.error:
                        st.error(attempt.error)
                    if attempt.log:
                        st.code(attempt.log, language="text")
        downloads.table_csv(
            workflow_charts.runs_frame([detail.run]), f"{name}_run_{run_id}.csv", key="wf_run_csv"
        )
        if can_edit:
            with st.container(horizontal=True):
                failed = [s for s in detail.steps if s.status == "failed" and s.phase == "main"]
                if (
                    detail.run.finished
                    and failed
                    and st.button(
                        f"Re-run from {failed[0].step_id}", key="wf_rerun", icon=":material/replay:"
                    )
                ):
                    with errors.shown():
                        new = history.rerun(svc, user, run_id)
                        st.session_state["wf_live"] = new.id
                        st.rerun()
                if not detail.run.finished and st.button(
                    "Cancel run", key="wf_cancel", icon=":material/cancel:"
                ):
                    with errors.shown():
                        history.cancel_run(svc, user, run_id)
                        st.rerun()

with tabs["Designer"]:
    if can_edit:
        marker = f"{name}:{info.version}"
        if st.session_state.get("wf_draft_of") != marker:
            workflow_editor.load(definition_data)
            st.session_state["wf_draft_of"] = marker
        datasets_help()
        draft = workflow_editor.show()
        validate_and_save(draft)
    else:
        st.graphviz_chart(workflow_charts.dag_dot(definition_data, labels=labels))
        st.caption("Analysts and admins edit workflows.")

with tabs["YAML"]:
    text = to_yaml(info.definition)
    st.code(text, language="yaml")
    st.download_button(
        "Download YAML",
        data=text,
        file_name=f"{name}.yaml",
        mime="application/yaml",
        key="wf_yaml_download",
        icon=":material/download:",
    )
    if can_edit:
        with st.expander("Replace with YAML (saves a new version)"):
            new_text = st.text_area("Workflow YAML", value=text, key=f"wf_yaml_{name}", height=300)
            if st.button("Import", key="wf_yaml_import"):
                with errors.shown():
                    saved = service.import_yaml(svc, user, new_text)
                    st.session_state["wf_pick_next"] = saved.name
                    st.session_state["wf_message"] = (
                        f"Saved {saved.name} as version {saved.version}."
                    )
                    st.rerun()

with tabs["Triggers"]:
    st.dataframe(
        [
            {
                "trigger": s.kind,
                "next check or run (UTC)": s.next_due,
                "last fired (UTC)": s.last_fired,
                "missed (skipped)": s.missed,
                "problem": s.error,
            }
            for s in states
        ],
        hide_index=True,
        alt=f"Triggers of {name}",
    )
    if not info.enabled:
        st.info("Triggers are off: only Run now starts this workflow.")
    if can_edit and any(t.type == "webhook" for t in info.definition.triggers):
        st.caption(
            f"Webhook: POST a JSON object to the machine API at /v1/webhooks/{name} with the "
            "token as a bearer token, signed with X-Beacon-Timestamp and X-Beacon-Signature "
            "(see the API docs). Making a new token invalidates the old one."
        )
        if st.button("Make a new webhook token", key="wf_token"):
            with errors.shown():
                token = service.issue_webhook_token(svc, user, name)
                st.code(token, language="text")
                st.caption("Copy it now: Beacon keeps only its hash.")
    if can_edit:
        with st.expander("Delete this workflow"):
            st.warning(f"Deleting removes {name}, its {info.versions} version(s) and all runs.")
            confirm = st.text_input("Type the workflow name to confirm", key="wf_delete_confirm")
            if st.button("Delete workflow", key="wf_delete", disabled=confirm != name):
                with errors.shown():
                    service.delete_workflow(svc, user, name)
                    st.session_state.pop("wf_pick", None)
                    st.rerun()

with tabs["Versions"]:
    found = service.versions(svc, user, name)
    st.dataframe(
        [
            {
                "version": v.version,
                "steps": v.steps,
                "saved by": v.created_by,
                "saved at": v.created_at,
            }
            for v in found
        ],
        hide_index=True,
        alt=f"Versions of {name}",
    )
    chosen = st.selectbox("Show version", [v.version for v in found], key=f"wf_version_{name}")
    older = service.definition_at(svc, user, name, int(chosen))
    st.code(to_yaml(older), language="yaml")
    st.download_button(
        "Download this version",
        data=to_yaml(older),
        file_name=f"{name}_v{chosen}.yaml",
        mime="application/yaml",
        key="wf_version_download",
        icon=":material/download:",
    )
