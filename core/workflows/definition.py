"""A workflow is data: steps, triggers, variables and policies, validated with pydantic.

The YAML form (the CLI and import/export use it):

    name: weekly-kpi-email
    variables: {threshold: 1000}
    triggers:
      - {type: cron, cron: "0 8 * * MON", timezone: Europe/Berlin}
    steps:
      - {id: revenue, type: query, params: {sql: "select sum(amount) as revenue from orders"}}
      - {id: mail, type: notify, params: {...}, depends_on: [revenue],
         when: "{{ ... }}", retry: {attempts: 3, backoff_seconds: 10}, timeout: 60}
    on_failure:            # steps run when a main step fails (optional)
      - {id: alert, type: notify, params: {...}}
    policy: {overlap: queue, concurrency: 1, missed: skip, catch_up_max: 1}

Every problem is reported as one line naming the step (or trigger) it is about.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from core.errors import UserInputError
from core.workflows import templating
from core.workflows.tasks.base import TASK_TYPES, task_type

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
STEP_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
CRON_ALIASES = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RetryPolicy(_Model):
    """Tries in all, and the wait between them: backoff * 2^(n-1), capped, with jitter."""

    attempts: int = Field(1, ge=1, le=20, description="Tries in all, the first included")
    backoff_seconds: float = Field(10.0, ge=0, le=86_400, description="Wait before the 2nd try")
    max_backoff_seconds: float = Field(3600.0, ge=0, le=86_400, description="Longest wait")
    jitter: float = Field(0.1, ge=0, le=1, description="Fraction of each wait that is random")


class StepDef(_Model):
    """One step: what it does (type + params), what it waits for, when it runs, retries."""

    id: str
    type: str
    params: dict[str, Any] = Field(default_factory=dict)
    depends_on: list[str] = Field(default_factory=list)
    when: str | None = None
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    timeout: int | None = Field(None, ge=1, le=7 * 86_400)
    description: str = ""


class ManualTrigger(_Model):
    type: Literal["manual"]


class CronTrigger(_Model):
    type: Literal["cron"]
    cron: str = Field(
        title="Cron expression",
        description="minute hour day month weekday, e.g. 0 8 * * MON (or @daily, @hourly)",
    )
    timezone: str = Field("UTC", title="Time zone", description="IANA name, e.g. Europe/Berlin")


class IntervalTrigger(_Model):
    type: Literal["interval"]
    seconds: int = Field(0, ge=0, title="Seconds")
    minutes: int = Field(0, ge=0, title="Minutes")
    hours: int = Field(0, ge=0, title="Hours")

    @property
    def every_seconds(self) -> int:
        return self.seconds + 60 * self.minutes + 3600 * self.hours


class WebhookTrigger(_Model):
    type: Literal["webhook"]


class FileTrigger(_Model):
    type: Literal["file"]
    folder: str = Field(
        "", title="Folder", description="Inside the server import folder (BEACON_IMPORT_DIR)"
    )
    pattern: str = Field("*", title="File pattern", description="e.g. *.csv")
    poll_seconds: int = Field(30, ge=1, le=86_400, title="Check every (s)")


class DataTrigger(_Model):
    type: Literal["data"]
    sql: str = Field(
        title="Metric SQL",
        description="A SELECT whose first value is the metric",
        json_schema_extra={"multiline": True},
    )
    operator: Literal["<", "<=", ">", ">=", "==", "!="] = Field(title="Fires when the metric is")
    threshold: float = Field(title="Threshold")
    poll_seconds: int = Field(300, ge=5, le=7 * 86_400, title="Check every (s)")


class WorkflowTrigger(_Model):
    type: Literal["workflow"]
    workflow: str = Field(title="After workflow")
    status: Literal["succeeded", "failed", "finished"] = Field("succeeded", title="When it has")


class RolloutTrigger(_Model):
    """Starts the workflow when a model rollout to edge devices ends."""

    type: Literal["rollout"]
    model: str = Field("", max_length=100, title="Model", description="Empty: any model")
    state: Literal["finished", "succeeded", "failed", "rolled_back", "aborted"] = Field(
        "finished", title="When it has"
    )


Trigger = Annotated[
    ManualTrigger
    | CronTrigger
    | IntervalTrigger
    | WebhookTrigger
    | FileTrigger
    | DataTrigger
    | WorkflowTrigger
    | RolloutTrigger,
    Field(discriminator="type"),
]
TRIGGER_MODELS: dict[str, type[_Model]] = {
    "manual": ManualTrigger,
    "cron": CronTrigger,
    "interval": IntervalTrigger,
    "webhook": WebhookTrigger,
    "file": FileTrigger,
    "data": DataTrigger,
    "workflow": WorkflowTrigger,
    "rollout": RolloutTrigger,
}


class Policy(_Model):
    """What happens when runs overlap or were missed, and how many may run at once."""

    overlap: Literal["skip", "queue", "cancel"] = "queue"
    concurrency: int = Field(1, ge=1, le=100)
    missed: Literal["skip", "catch_up"] = "skip"
    catch_up_max: int = Field(1, ge=1, le=100)


class WorkflowDef(_Model):
    """A whole workflow definition."""

    name: str
    description: str = ""
    variables: dict[str, Any] = Field(default_factory=dict)
    triggers: list[Trigger] = Field(default_factory=lambda: [ManualTrigger(type="manual")])
    steps: list[StepDef] = Field(min_length=1)
    on_failure: list[StepDef] = Field(default_factory=list)
    policy: Policy = Field(default_factory=Policy)

    @model_validator(mode="after")
    def _check(self) -> WorkflowDef:
        if not NAME.match(self.name):
            raise ValueError(
                f"workflow name {self.name!r}: use 1-100 letters, digits, '-', '_' or '.', "
                "starting with a letter or digit"
            )
        for index, trigger in enumerate(self.triggers):
            _check_trigger(index, trigger)
            if isinstance(trigger, WorkflowTrigger) and trigger.workflow == self.name:
                raise ValueError(f"trigger {index + 1} (workflow): a workflow cannot start itself")
        seen: set[str] = set()
        for step in (*self.steps, *self.on_failure):
            if not STEP_ID.match(step.id) or hasattr(dict, step.id):
                raise ValueError(
                    f"step {step.id!r}: an id is a letter then letters, digits or '_' "
                    "(and not a word templates reserve, such as 'items' or 'values')"
                )
            if step.id in seen:
                raise ValueError(f"step {step.id!r}: two steps have this id")
            seen.add(step.id)
        _check_group(self.steps, "")
        _check_group(self.on_failure, "on-failure ")
        return self

    def step(self, step_id: str) -> StepDef:
        """The step with this id (main or on-failure)."""
        return next(s for s in (*self.steps, *self.on_failure) if s.id == step_id)


def cron_expression(text: str) -> str:
    """A 5-field cron expression (aliases such as @daily expanded)."""
    text = " ".join(text.split())
    return CRON_ALIASES.get(text.lower(), text)


def _check_trigger(index: int, trigger: Any) -> None:
    where = f"trigger {index + 1} ({trigger.type})"
    if isinstance(trigger, CronTrigger):
        from cronsim import CronSim, CronSimError

        expression = cron_expression(trigger.cron)
        if len(expression.split()) != 5:
            raise ValueError(
                f"{where}: cron needs 5 fields (minute hour day month weekday), "
                f"got {trigger.cron!r}"
            )
        try:
            CronSim(expression, datetime(2026, 1, 1, tzinfo=UTC))
        except CronSimError as exc:
            raise ValueError(f"{where}: bad cron expression {trigger.cron!r} ({exc})") from None
        try:
            ZoneInfo(trigger.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{where}: unknown time zone {trigger.timezone!r} (e.g. Europe/Berlin)"
            ) from None
    elif isinstance(trigger, IntervalTrigger) and trigger.every_seconds < 10:
        raise ValueError(f"{where}: the interval must be at least 10 seconds")
    elif isinstance(trigger, FileTrigger) and (
        trigger.folder.startswith(("/", "\\"))
        or ".." in trigger.folder.replace("\\", "/").split("/")
    ):
        raise ValueError(f"{where}: the folder is relative to the server import folder")
    elif isinstance(trigger, WorkflowTrigger) and not NAME.match(trigger.workflow):
        raise ValueError(f"{where}: {trigger.workflow!r} is not a workflow name")


def _check_group(steps: list[StepDef], label: str) -> None:
    ids = {s.id for s in steps}
    for step in steps:
        where = f"{label}step {step.id!r}"
        try:
            task = task_type(step.type)
        except UserInputError as exc:
            raise ValueError(f"{where}: {exc}") from None
        for upstream in step.depends_on:
            if upstream not in ids:
                raise ValueError(f"{where}: depends on {upstream!r}, which is not a {label}step")
        for location, text in templating.templates_in(step.params):
            try:
                templating.check(text)
            except UserInputError as exc:
                raise ValueError(f"{where}: params.{location}: {exc}") from None
        if step.when is not None:
            try:
                templating.check(step.when)
            except UserInputError as exc:
                raise ValueError(f"{where}: when: {exc}") from None
        _check_params(where, task, step.params)
    order = topological_order(steps)
    if len(order) < len(steps):
        stuck = [s.id for s in steps if s.id not in order]
        raise ValueError(
            f"{label}step {stuck[0]!r}: depends on itself through a cycle ({', '.join(stuck)})"
        )


def _check_params(where: str, task: Any, params: dict[str, Any]) -> None:
    # Templated values are checked after rendering, at run time; the rest now.
    templated = {k for k, v in params.items() if templating.templates_in(v)}
    try:
        task.params.model_validate({k: v for k, v in params.items() if k not in templated})
    except ValidationError as exc:
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            if field in templated:
                continue
            path = ".".join(str(p) for p in error["loc"])
            message = ": " + error["msg"].removeprefix("Value error, ").lower()
            if error["type"] == "missing":
                message = " is required"
            elif error["type"] == "extra_forbidden":
                message = f" is not a parameter of {task.name}"
            raise ValueError(f"{where}: params.{path}{message}") from None


def topological_order(steps: list[StepDef]) -> list[str]:
    """Step ids so that each comes after what it depends on (cycles are left out)."""
    remaining = {s.id: set(s.depends_on) for s in steps}
    order: list[str] = []
    while True:
        ready = [sid for sid, deps in remaining.items() if not deps - set(order)]
        if not ready:
            return order
        for sid in ready:
            order.append(sid)
            del remaining[sid]


def downstream_of(steps: list[StepDef], start: str) -> set[str]:
    """`start` and every step that depends on it, directly or not."""
    found = {start}
    changed = True
    while changed:
        changed = False
        for step in steps:
            if step.id not in found and found & set(step.depends_on):
                found.add(step.id)
                changed = True
    return found


# --- parsing and writing ----------------------------------------------------------------


def _where(data: Any, loc: tuple) -> str:
    """'step 'mail'' for ('steps', 3, ...), using the raw data to name the step."""
    if len(loc) >= 2 and loc[0] in ("steps", "on_failure") and isinstance(loc[1], int):
        try:
            sid = data[loc[0]][loc[1]].get("id") or f"#{loc[1] + 1}"
        except (KeyError, IndexError, TypeError, AttributeError):
            sid = f"#{loc[1] + 1}"
        rest = ".".join(str(p) for p in loc[2:])
        label = "on-failure step" if loc[0] == "on_failure" else "step"
        return f"{label} {sid!r}" + (f" {rest}" if rest else "")
    if len(loc) >= 2 and loc[0] == "triggers" and isinstance(loc[1], int):
        rest = ".".join(str(p) for p in loc[3:])
        return f"trigger {loc[1] + 1}" + (f" {rest}" if rest else "")
    return ".".join(str(p) for p in loc)


def from_data(data: Any) -> WorkflowDef:
    """Validate a parsed definition; any problem is one UserInputError line."""
    if not isinstance(data, dict):
        raise UserInputError("A workflow definition is a mapping with name, steps and triggers.")
    try:
        return WorkflowDef.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "value_error" and not loc:
            pass  # our own checks already name the step or trigger
        elif loc == ("steps",) and error["type"] == "too_short":
            message = "a workflow needs at least one step"
        elif error["type"] == "missing":
            message = f"{_where(data, loc)} is required"
        elif error["type"] == "extra_forbidden":
            message = f"{_where(data, loc[:-1]) or 'the workflow'}: {loc[-1]!r} is not a known key"
        elif error["type"] == "union_tag_invalid":
            *others, last = TRIGGER_MODELS
            message = (
                f"{_where(data, loc)}: unknown trigger type; choose {', '.join(others)} or {last}"
            )
        else:
            message = f"{_where(data, loc)}: {message[:1].lower()}{message[1:]}"
        raise UserInputError((message[:1].upper() + message[1:] + ".").replace("..", ".")) from None


def parse_yaml(text: str) -> WorkflowDef:
    """Parse and validate the YAML form."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" on line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "it is not valid YAML"
        raise UserInputError(f"The workflow YAML does not parse{where}: {problem}.") from None
    return from_data(data)


def to_data(definition: WorkflowDef) -> dict[str, Any]:
    """The definition as plain data, without keys left at their defaults."""
    data = definition.model_dump(mode="json", exclude_defaults=True)
    data["name"] = definition.name
    data["steps"] = [
        {"id": s.id, "type": s.type} | s.model_dump(mode="json", exclude_defaults=True)
        for s in definition.steps
    ]
    if definition.on_failure:
        data["on_failure"] = [
            {"id": s.id, "type": s.type} | s.model_dump(mode="json", exclude_defaults=True)
            for s in definition.on_failure
        ]
    data["triggers"] = [
        t.model_dump(mode="json", exclude_defaults=True) | {"type": t.type}
        for t in definition.triggers
    ]
    order = ["name", "description", "variables", "triggers", "steps", "on_failure", "policy"]
    return {k: data[k] for k in order if k in data}


def to_yaml(definition: WorkflowDef) -> str:
    """The YAML form of a definition (keys in the documented order)."""
    return yaml.safe_dump(to_data(definition), sort_keys=False, allow_unicode=True, width=100)


def known_task_types() -> list[str]:
    """Names of every registered task type."""
    task_type("query")  # loads the built-ins
    return sorted(TASK_TYPES)
