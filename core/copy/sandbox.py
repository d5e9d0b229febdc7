"""Sandboxed Jinja2 for prompt and copy templates, with the limits the sandbox itself lacks.

Jinja's ImmutableSandboxedEnvironment stops attribute escapes (``__class__``,
``__globals__``) and mutation, but caps neither time nor size: ``'a' * 50_000_000``
renders 50 MB and two nested ``range(100000)`` loops run for hours. Here every value a
template builds is bounded (operators, calls, filters), loops check a deadline on each
pass, the output is capped while it streams, and only an allow-list of filters,
globals and string methods is reachable. ``str.format`` and ``%``-formatting with
huge widths are refused.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache, wraps
from typing import Any

from jinja2 import TemplateSyntaxError, nodes, pass_environment
from jinja2 import filters as jinja_filters
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment, safe_range

from core.errors import UserInputError

MAX_TEMPLATE_CHARS = 20_000
_LOOP_GUARD = "beacon_loop_guard"
_FORMAT_WIDTH = re.compile(r"%[-+ #0]*(\*|\d+)?(?:\.(\*|\d+))?")
_STR_METHODS = frozenset(
    [
        "upper",
        "lower",
        "title",
        "capitalize",
        "strip",
        "lstrip",
        "rstrip",
        "startswith",
        "endswith",
        "split",
        "rsplit",
        "count",
        "find",
        "isdigit",
        "isalpha",
        "isupper",
        "islower",
        "splitlines",
    ]
)
_MAPPING_METHODS = frozenset({"get", "items", "keys", "values"})


@dataclass(frozen=True, slots=True)
class TemplateLimits:
    """How much one render may produce and how long it may take."""

    max_output_chars: int = 20_000
    max_value_chars: int = 20_000
    seconds: float = 0.5


class TemplateLimitError(UserInputError):
    """A template went over its size or time limit, or touched something not allowed."""


_active: ContextVar[tuple[float, TemplateLimits] | None] = ContextVar(
    "template_limits", default=None
)


def _limits() -> TemplateLimits:
    state = _active.get()
    return state[1] if state else TemplateLimits()


def _tick() -> None:
    state = _active.get()
    if state is not None and time.perf_counter() > state[0]:
        raise TemplateLimitError(
            f"The template ran longer than {state[1].seconds:g} s and was stopped: "
            "simplify its loops."
        )


def _size(value: Any) -> int:
    return len(value) if isinstance(value, str | list | tuple | dict) else 0


def _check_size(value: Any) -> Any:
    limit = _limits().max_value_chars
    if _size(value) > limit:
        raise TemplateLimitError(
            f"A value in the template grew past {limit:,} characters or items and was stopped."
        )
    return value


def _loop_guard(iterable: Iterable[Any]) -> Iterator[Any]:
    """Wraps every `for` loop's iterable: each pass checks the deadline."""
    for item in iterable:
        _tick()
        yield item


def _guarded_filter(function: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(function)  # keeps Jinja's pass_context / pass_environment marker
    def run(*args: Any, **kwargs: Any) -> Any:
        _tick()
        return _check_size(function(*args, **kwargs))

    return run


@pass_environment
def _safe_join(environment, value: Iterable[Any], d: str = "", attribute: Any = None) -> str:
    if attribute is not None:
        value = map(jinja_filters.make_attrgetter(environment, attribute), value)
    items = [str(v) for v in value]
    if sum(map(len, items)) + len(d) * max(len(items) - 1, 0) > _limits().max_value_chars:
        raise TemplateLimitError("A join() in the template would build too long a text.")
    return d.join(items)


def _safe_replace(value: str, old: str, new: str, count: int | None = None) -> str:
    value, old, new = str(value), str(old), str(new)
    hits = value.count(old) if count is None else min(value.count(old), count)
    if len(value) + hits * (len(new) - len(old)) > _limits().max_value_chars:
        raise TemplateLimitError("A replace() in the template would build too long a text.")
    return value.replace(old, new) if count is None else value.replace(old, new, count)


def _money(value: Any, symbol: str = "$") -> str:
    """12.5 -> '$12.50'."""
    try:
        return f"{symbol}{float(value):,.2f}"
    except (TypeError, ValueError):
        return str(value)


def _sentence_list(values: Iterable[Any]) -> str:
    """['a', 'b', 'c'] -> 'a, b and c'."""
    items = [str(v) for v in values if str(v).strip()]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


_ALLOWED_FILTERS = [
    "abs",
    "capitalize",
    "default",
    "d",
    "first",
    "float",
    "int",
    "last",
    "length",
    "count",
    "list",
    "lower",
    "upper",
    "title",
    "trim",
    "truncate",
    "round",
    "sort",
    "unique",
    "reject",
    "select",
    "map",
    "sum",
    "min",
    "max",
    "string",
    "wordcount",
]


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """An immutable sandbox whose templates cannot run long or build huge values."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self) -> None:
        super().__init__(autoescape=False, keep_trailing_newline=False)
        self.globals.clear()
        self.globals.update({"range": safe_range, _LOOP_GUARD: _loop_guard})
        kept = {name: self.filters[name] for name in _ALLOWED_FILTERS}
        kept.update(join=_safe_join, replace=_safe_replace, money=_money, sentence=_sentence_list)
        self.filters.clear()
        self.filters.update({name: _guarded_filter(f) for name, f in kept.items()})

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if not super().is_safe_attribute(obj, attr, value):
            return False
        if isinstance(obj, str):
            return attr in _STR_METHODS
        if isinstance(obj, Mapping):
            return attr in _MAPPING_METHODS
        return not callable(value)  # plain data attributes only

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        if getattr(value, "__name__", None) in ("format", "format_map") and isinstance(
            getattr(value, "__self__", None), str
        ):

            def refused(*_: Any, **__: Any) -> str:
                raise TemplateLimitError("str.format is not available in templates.")

            return refused
        return None

    def getattr(self, obj: Any, attribute: str) -> Any:
        _tick()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _tick()
        return super().getitem(obj, argument)

    def call_binop(self, context: Any, operator_: str, left: Any, right: Any) -> Any:
        _tick()
        limit = _limits().max_value_chars
        if operator_ == "*":
            for seq, times in ((left, right), (right, left)):
                if _size(seq) and isinstance(times, int) and _size(seq) * times > limit:
                    raise TemplateLimitError(f"A repeated value would exceed {limit:,} characters.")
        elif operator_ == "**":
            if isinstance(right, int | float) and isinstance(left, int | float):
                magnitude = abs(right) * math.log10(max(abs(left), 2))
                if magnitude > 300:
                    raise TemplateLimitError("A power in the template is too large.")
        elif operator_ == "%" and isinstance(left, str):
            for width, precision in _FORMAT_WIDTH.findall(left):
                if "*" in (width, precision) or max(int(width or 0), int(precision or 0)) > 1000:
                    raise TemplateLimitError("A %-format width in the template is too large.")
        elif operator_ == "+" and _size(left) + _size(right) > limit:
            raise TemplateLimitError(f"A joined value would exceed {limit:,} characters.")
        return _check_size(self.binop_table[operator_](left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _tick()
        for value in (*args, *kwargs.values()):
            _check_size(value)
        return _check_size(super().call(__context, __obj, *args, **kwargs))

    def _generate(self, source: nodes.Template, name, filename, defer_init: bool = False):
        # Every loop iterates through the guard, so a loop with an empty body still
        # notices the deadline.
        for loop in source.find_all(nodes.For):
            loop.iter = nodes.Call(
                nodes.Name(_LOOP_GUARD, "load"), [loop.iter], [], None, None, lineno=loop.lineno
            )
        return super()._generate(source, name, filename, defer_init=defer_init)


_ENVIRONMENT = BoundedEnvironment()


@lru_cache(maxsize=256)
def _compiled(source: str):
    if len(source) > MAX_TEMPLATE_CHARS:
        raise UserInputError(
            f"The template is {len(source):,} characters; the limit is {MAX_TEMPLATE_CHARS:,}."
        )
    try:
        return _ENVIRONMENT.from_string(source)
    except TemplateSyntaxError as exc:
        raise UserInputError(f"Template line {exc.lineno}: {exc.message}") from None


def check(source: str) -> None:
    """Raise UserInputError if `source` is not a valid template."""
    _compiled(source)


def render(source: str, context: Mapping[str, Any], limits: TemplateLimits | None = None) -> str:
    """Render `source` with `context` inside the sandbox, within `limits`."""
    limits = limits or TemplateLimits()
    template = _compiled(source)
    token = _active.set((time.perf_counter() + limits.seconds, limits))
    parts: list[str] = []
    total = 0
    try:
        for chunk in template.generate(dict(context)):
            total += len(chunk)
            if total > limits.max_output_chars:
                raise TemplateLimitError(
                    f"The template's output passed {limits.max_output_chars:,} characters "
                    "and was stopped."
                )
            parts.append(chunk)
            _tick()
    except SecurityError as exc:
        raise TemplateLimitError(f"The template tried something not allowed: {exc}") from None
    except UndefinedError as exc:
        raise UserInputError(f"The template uses something that is not defined: {exc}") from None
    except RecursionError:
        raise TemplateLimitError("The template recursed too deeply and was stopped.") from None
    except TemplateError as exc:
        raise UserInputError(f"The template failed: {exc}") from None
    except (TypeError, ValueError, ZeroDivisionError, OverflowError) as exc:
        raise UserInputError(f"The template failed: {exc}") from None
    finally:
        _active.reset(token)
    return "".join(parts)


__all__ = ["MAX_TEMPLATE_CHARS", "TemplateLimitError", "TemplateLimits", "check", "render"]
