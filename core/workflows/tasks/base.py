"""The task-type registry: what a step can do, its parameter schema, and how it runs.

A task type is one module: a pydantic model of its parameters (which the designer
renders as a form and the definition validator checks) and a `run(ctx, params)` that
returns a JSON-able output. Built-ins register exactly as an extension would.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict

from core.auth.roles import User
from core.errors import UserInputError


class Clock(Protocol):
    """Where the engine reads the time and sleeps (tests pass a controllable one)."""

    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        import time

        time.sleep(max(0.0, seconds))


class Params(BaseModel):
    """Base of every task's parameter model: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True, slots=True)
class StepContext:
    """What a running step may use: services, the acting user, where it is, a log."""

    services: Any  # core.services.Services (kept loose: tasks import it lazily)
    user: User
    workflow: str
    run_id: int
    step_id: str
    attempt: int
    clock: Clock = field(default_factory=SystemClock)
    log: Callable[[str], None] = lambda message: None

    @property
    def settings(self):
        return self.services.settings

    @property
    def artifacts_dir(self) -> Path:
        """This run's folder in the artifact store (BEACON_HOME/artifacts)."""
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in self.workflow)
        return self.settings.home / "artifacts" / "workflows" / safe / f"run-{self.run_id}"


@dataclass(frozen=True, slots=True)
class TaskType:
    """One kind of step."""

    name: str
    label: str
    help: str
    params: type[Params]
    run: Callable[[StepContext, Any], Any]


TASK_TYPES: dict[str, TaskType] = {}


def register(task: TaskType) -> TaskType:
    """Add a task type to the registry (built-ins and extensions alike)."""
    TASK_TYPES[task.name] = task
    return task


def task_type(name: str) -> TaskType:
    """The registered task type `name`."""
    from core.workflows import tasks  # noqa: F401  (registers the built-ins)

    if name not in TASK_TYPES:
        raise UserInputError(
            f"unknown task type {name!r}; choose one of: {', '.join(sorted(TASK_TYPES))}"
        )
    return TASK_TYPES[name]


def all_task_types() -> dict[str, TaskType]:
    """Every registered task type, by name."""
    from core.workflows import tasks  # noqa: F401

    return dict(sorted(TASK_TYPES.items()))


# --- parameter schema as form fields ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class ParamField:
    """A parameter as the designer shows it: widget kind, label, help, choices, default."""

    name: str
    label: str
    help: str
    kind: str  # text | multiline | int | float | bool | choice | mapping | list
    required: bool
    default: Any = None
    choices: tuple[str, ...] = ()


def _kind(annotation: Any, extra: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _kind(inner[0], extra) if len(inner) == 1 else ("text", ())
    if origin is Literal:
        return "choice", tuple(str(a) for a in typing.get_args(annotation))
    if origin in (dict, typing.Mapping) or annotation is dict:
        return "mapping", ()
    if origin in (list, tuple) or annotation in (list, tuple):
        return "list", ()
    if annotation is bool:
        return "bool", ()
    if annotation is int:
        return "int", ()
    if annotation is float:
        return "float", ()
    return ("multiline" if extra.get("multiline") else "text"), ()


def param_fields(task: TaskType) -> list[ParamField]:
    """The task's parameters in declaration order, as form fields."""
    return schema_fields(task.params)


def schema_fields(model: type[BaseModel], skip: tuple[str, ...] = ()) -> list[ParamField]:
    """The fields of any pydantic model (task parameters, triggers) as form fields."""
    fields: list[ParamField] = []
    for name, info in model.model_fields.items():
        if name in skip:
            continue
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        kind, choices = _kind(info.annotation, extra)
        default = None if info.is_required() else info.get_default(call_default_factory=True)
        fields.append(
            ParamField(
                name=name,
                label=info.title or name.replace("_", " ").capitalize(),
                help=info.description or "",
                kind=kind,
                required=info.is_required(),
                default=default,
                choices=choices,
            )
        )
    return fields
