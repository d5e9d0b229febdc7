"""The workflow designer: a form-based editor of a draft definition held in session state.

The draft is plain data (the YAML form). Each task type's parameter schema becomes
the step form's fields; a step's changes are applied only when the definition still
validates for that step, so the error appears next to the form that caused it.
"""

from __future__ import annotations

import copy
from typing import Any

import streamlit as st
import yaml

from components import workflow_charts
from core.errors import UserInputError
from core.workflows.definition import TRIGGER_MODELS, from_data
from core.workflows.tasks.base import ParamField, all_task_types, param_fields, schema_fields
from core.workflows.templating import is_template

DRAFT = "wf_draft"
FIELD = "wf_f_"  # prefix of the form's widget keys; cleared when another draft is loaded
NEW_STEP = "+ Add a step"
GROUPS = {"Main steps": "steps", "On failure": "on_failure"}


def blank() -> dict[str, Any]:
    """An empty draft."""
    return {"name": "", "description": "", "triggers": [{"type": "manual"}], "steps": []}


def load(definition: dict[str, Any]) -> None:
    """Edit `definition` from now on (the form's fields start from its values)."""
    st.session_state[DRAFT] = copy.deepcopy(definition)
    for key in list(st.session_state):
        if str(key).startswith(FIELD):
            del st.session_state[key]


def current() -> dict[str, Any] | None:
    """The draft being edited, if any."""
    return st.session_state.get(DRAFT)


def task_labels() -> dict[str, str]:
    return {name: task.label for name, task in all_task_types().items()}


def _seed(key: str, value: Any) -> str:
    if key not in st.session_state:
        st.session_state[key] = value
    return key


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return yaml.safe_dump(value, sort_keys=False).strip() if value else ""
    return str(value)


def _field_widget(field: ParamField, value: Any, key: str) -> None:
    """One schema field as a widget; its session value is read back by `_field_value`."""
    label = field.label + ("" if field.required else " (optional)")
    if field.kind == "bool" and not is_template(value):
        st.checkbox(label, key=_seed(key, bool(value)), help=field.help or None)
    elif field.kind == "choice" and not is_template(value):
        options = list(field.choices)
        _seed(key, value if value in options else options[0])
        st.selectbox(label, options, key=key, help=field.help or None)
    elif field.kind in ("multiline", "mapping", "list"):
        hint = (
            " Write YAML: key: value lines, or - item lines." if field.kind != "multiline" else ""
        )
        st.text_area(label, key=_seed(key, _as_text(value)), help=(field.help + hint).strip())
    else:
        st.text_input(label, key=_seed(key, _as_text(value)), help=field.help or None)


def _field_value(field: ParamField, key: str) -> tuple[bool, Any]:
    """(given, value) of a field's widget, typed as the schema wants (templates kept)."""
    raw = st.session_state.get(key)
    if isinstance(raw, bool) or field.kind == "choice":
        return True, raw
    text = str(raw or "").strip()
    if not text:
        return False, None
    if is_template(text) or field.kind in ("text", "multiline"):
        return True, text
    if field.kind in ("int", "float"):
        try:
            return True, int(text) if field.kind == "int" else float(text)
        except ValueError:
            return True, text  # the validator says what is wrong with it
    try:
        return True, yaml.safe_load(text)
    except yaml.YAMLError:
        raise UserInputError(f"{field.label}: this is not valid YAML.") from None


def _basics(draft: dict[str, Any]) -> None:
    with st.container(horizontal=True):
        st.text_input("Name", key=_seed(f"{FIELD}name", draft.get("name", "")), max_chars=100)
        st.text_input("Description", key=_seed(f"{FIELD}description", draft.get("description", "")))
    draft["name"] = st.session_state[f"{FIELD}name"].strip()
    draft["description"] = st.session_state[f"{FIELD}description"].strip()
    with st.expander("Variables", expanded=bool(draft.get("variables"))):
        st.caption("Values steps can use as {{ variables.NAME }}. YAML: one name: value a line.")
        text = st.text_area(
            "Variables", key=_seed(f"{FIELD}variables", _as_text(draft.get("variables") or {}))
        )
        try:
            variables = yaml.safe_load(text) if text.strip() else {}
            if not isinstance(variables, dict):
                raise UserInputError("Variables are name: value lines.")
            draft["variables"] = variables
        except (yaml.YAMLError, UserInputError):
            st.error("Variables are YAML name: value lines; fix them to use them.")


def _add_step_form(draft: dict[str, Any], group: str, pick_key: str) -> None:
    labels = task_labels()
    steps = draft.setdefault(group, [])
    with st.container(horizontal=True, vertical_alignment="bottom"):
        kind = st.selectbox(
            "Task type", list(labels), format_func=labels.get, key=f"{FIELD}new_type"
        )
        default_id = f"{kind}_{len(steps) + 1}"
        step_id = st.text_input("Step id", key=f"{FIELD}new_id", placeholder=default_id)
    st.caption(all_task_types()[kind].help)
    if st.button("Add step", key=f"{FIELD}add_step", icon=":material/add:"):
        step_id = (step_id or default_id).strip()
        taken = {s["id"] for g in GROUPS.values() for s in draft.get(g) or []}
        if step_id in taken:
            st.error(f"There is already a step {step_id!r}.")
            return
        step = {"id": step_id, "type": kind, "params": {}}
        if steps:
            step["depends_on"] = [steps[-1]["id"]]
        steps.append(step)
        st.session_state[f"{pick_key}_next"] = step_id
        st.rerun()


def _step_form(draft: dict[str, Any], group: str, step: dict[str, Any]) -> None:
    sid = step["id"]
    task = all_task_types().get(step["type"])
    if task is None:
        st.error(f"Step {sid!r} uses an unknown task type {step['type']!r}.")
        return
    prefix = f"{FIELD}{group}_{sid}_"
    st.caption(f"**{task.label}** · {task.help}")
    others = [s["id"] for s in draft.get(group) or [] if s["id"] != sid]
    depends = [d for d in step.get("depends_on") or [] if d in others]
    st.multiselect("Runs after", others, key=_seed(f"{prefix}depends_on", depends))
    fields = param_fields(task)
    for field in fields:
        _field_widget(
            field, step.get("params", {}).get(field.name, field.default), f"{prefix}p_{field.name}"
        )
    with st.expander("When, retries and timeout"):
        st.text_input(
            "Run only when",
            key=_seed(f"{prefix}when", step.get("when") or ""),
            help="A template that renders true or false, e.g. {{ steps.check.output }}",
        )
        retry = step.get("retry") or {}
        with st.container(horizontal=True):
            st.number_input(
                "Tries in all", 1, 20, key=_seed(f"{prefix}attempts", int(retry.get("attempts", 1)))
            )
            st.number_input(
                "First retry after (s)",
                0.0,
                86_400.0,
                key=_seed(f"{prefix}backoff", float(retry.get("backoff_seconds", 10.0))),
                help="Doubles for each further retry, up to an hour, with 10% jitter",
            )
            st.number_input(
                "Timeout (s)",
                0,
                7 * 86_400,
                key=_seed(f"{prefix}timeout", int(step.get("timeout") or 0)),
                help="0 uses the default (BEACON_WORKFLOW_STEP_TIMEOUT)",
            )
    with st.container(horizontal=True):
        apply = st.button("Apply changes", key=f"{FIELD}apply", type="primary")
        remove = st.button("Remove step", key=f"{FIELD}remove", icon=":material/delete:")
    if remove:
        draft[group] = [s for s in draft[group] if s["id"] != sid]
        for s in draft[group]:
            s["depends_on"] = [d for d in s.get("depends_on") or [] if d != sid]
        st.rerun()
    if not apply:
        return
    try:
        params = {}
        for field in fields:
            given, value = _field_value(field, f"{prefix}p_{field.name}")
            if given:
                params[field.name] = value
    except UserInputError as exc:
        st.error(str(exc))
        return
    updated: dict[str, Any] = {"id": sid, "type": step["type"], "params": params}
    if st.session_state[f"{prefix}depends_on"]:
        updated["depends_on"] = list(st.session_state[f"{prefix}depends_on"])
    if st.session_state[f"{prefix}when"].strip():
        updated["when"] = st.session_state[f"{prefix}when"].strip()
    attempts, backoff = st.session_state[f"{prefix}attempts"], st.session_state[f"{prefix}backoff"]
    if attempts != 1 or backoff != 10.0:
        updated["retry"] = {"attempts": int(attempts), "backoff_seconds": float(backoff)}
    if st.session_state[f"{prefix}timeout"]:
        updated["timeout"] = int(st.session_state[f"{prefix}timeout"])
    candidate = copy.deepcopy(draft)
    candidate[group] = [updated if s["id"] == sid else s for s in candidate[group]]
    try:
        from_data(candidate | {"name": candidate.get("name") or "draft"})
    except UserInputError as exc:
        if f"'{sid}'" in str(exc):
            st.error(str(exc))
            return
    draft[group] = candidate[group]
    st.toast(f"Step {sid} updated.")


def _steps(draft: dict[str, Any]) -> None:
    left, right = st.columns([3, 2])
    with left:
        st.graphviz_chart(workflow_charts.dag_dot(draft, labels=task_labels()))
    with right:
        group = GROUPS[
            st.segmented_control("Steps", list(GROUPS), key=f"{FIELD}group", default="Main steps")
            or "Main steps"
        ]
        pick_key = f"{FIELD}pick_{group}"
        ids = [s["id"] for s in draft.get(group) or []]
        if f"{pick_key}_next" in st.session_state:
            st.session_state[pick_key] = st.session_state.pop(f"{pick_key}_next")
        if st.session_state.get(pick_key) not in [*ids, NEW_STEP]:
            st.session_state[pick_key] = ids[0] if ids else NEW_STEP
        chosen = st.selectbox("Edit step", [*ids, NEW_STEP], key=pick_key)
        if chosen == NEW_STEP:
            _add_step_form(draft, group, pick_key)
        else:
            _step_form(draft, group, next(s for s in draft[group] if s["id"] == chosen))


def _triggers(draft: dict[str, Any]) -> None:
    triggers = draft.setdefault("triggers", [])
    st.caption("A workflow can always be run by hand; triggers start it on their own.")
    for index, trigger in enumerate(list(triggers)):
        with st.container(horizontal=True, vertical_alignment="center"):
            details = ", ".join(f"{k}={v}" for k, v in trigger.items() if k != "type")
            st.markdown(f"**{trigger['type']}** {details}")
            if st.button("Remove", key=f"{FIELD}trigger_remove_{index}"):
                triggers.pop(index)
                st.rerun()
    kind = st.selectbox(
        "Add a trigger", [k for k in TRIGGER_MODELS if k != "manual"], key=f"{FIELD}trigger_type"
    )
    fields = schema_fields(TRIGGER_MODELS[kind], skip=("type",))
    for field in fields:
        _field_widget(field, field.default, f"{FIELD}t_{kind}_{field.name}")
    if st.button("Add trigger", key=f"{FIELD}trigger_add", icon=":material/add_alarm:"):
        new: dict[str, Any] = {"type": kind}
        try:
            for field in fields:
                given, value = _field_value(field, f"{FIELD}t_{kind}_{field.name}")
                if given:
                    new[field.name] = value
            candidate = copy.deepcopy(draft)
            candidate["triggers"] = [*triggers, new]
            from_data(candidate | {"name": candidate.get("name") or "draft"})
        except UserInputError as exc:
            if "trigger" in str(exc).lower() or "YAML" in str(exc):
                st.error(str(exc))
                return
        triggers.append(new)
        st.rerun()


def _policy(draft: dict[str, Any]) -> None:
    policy = draft.get("policy") or {}
    with st.container(horizontal=True):
        st.selectbox(
            "When a run is still going",
            ["queue", "skip", "cancel"],
            key=_seed(f"{FIELD}overlap", policy.get("overlap", "queue")),
            help="queue: wait for it; skip: do not start; cancel: stop it and start",
        )
        st.number_input(
            "Runs at once",
            1,
            100,
            key=_seed(f"{FIELD}concurrency", int(policy.get("concurrency", 1))),
        )
        st.selectbox(
            "Missed schedules",
            ["skip", "catch_up"],
            key=_seed(f"{FIELD}missed", policy.get("missed", "skip")),
            help="After downtime: skip them, or run the latest few",
        )
        st.number_input(
            "Catch up at most",
            1,
            100,
            key=_seed(f"{FIELD}catch_up", int(policy.get("catch_up_max", 1))),
        )
    chosen = {
        "overlap": st.session_state[f"{FIELD}overlap"],
        "concurrency": int(st.session_state[f"{FIELD}concurrency"]),
        "missed": st.session_state[f"{FIELD}missed"],
        "catch_up_max": int(st.session_state[f"{FIELD}catch_up"]),
    }
    defaults = {"overlap": "queue", "concurrency": 1, "missed": "skip", "catch_up_max": 1}
    draft["policy"] = {k: v for k, v in chosen.items() if v != defaults[k]}
    if not draft["policy"]:
        draft.pop("policy")


def show() -> dict[str, Any]:
    """Edit the current draft (load one first); returns it as edited so far."""
    draft = st.session_state[DRAFT]
    _basics(draft)
    st.subheader("Steps")
    _steps(draft)
    st.subheader("Triggers")
    _triggers(draft)
    st.subheader("Policies")
    _policy(draft)
    return draft
