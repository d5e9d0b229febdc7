"""Step parameters as templates: a sandboxed Jinja2 with limits on rendered length and time.

Jinja2's ImmutableSandboxedEnvironment blocks attribute escapes (``__class__``,
``__subclasses__``) and mutation of the context, but caps neither output size nor time:
``'a' * 50_000_000`` renders 50 MB. So the environment here also
- checks the size of every ``*``, ``**``, ``%``, ``+`` and ``~`` result before building it,
  every filter and method result, and every padding width passed to a call;
- stops rendering once the output passes ``max_chars``;
- stops rendering after ``seconds`` (a trace function checks a deadline as template code
  runs, so even loops that print nothing end).
Undefined names are errors (StrictUndefined), so a typo fails the step instead of
rendering an empty string.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache, wraps
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from core.errors import UserInputError

MARKERS = ("{{", "{%", "{#")
# Widths of 100000+ characters in str.format specs and printf-style formats.
_WIDE_BRACES = re.compile(r"\{[^{}]*:[^{}]*\d{6,}[^{}]*\}")
_WIDE_PRINTF = re.compile(r"%[-+ #0]*(\d{6,}|\*)")
# Calls whose integer arguments are sizes of the text they build.
_PADDING_METHODS = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs"})
_PADDING_FILTERS = frozenset({"center", "indent", "wordwrap", "filesizeformat"})


class TemplateProblem(UserInputError):
    """A template that does not parse, names something undefined, or breaks a limit."""


class _TooBig(SecurityError):
    pass


class _TooSlow(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Limits:
    """How long a rendered template may be and how long rendering may take."""

    max_chars: int = 100_000
    seconds: float = 2.0


def is_template(value: Any) -> bool:
    """Whether a value is a string with Jinja2 markup in it."""
    return isinstance(value, str) and any(m in value for m in MARKERS)


def _size(value: Any) -> int:
    return len(value) if isinstance(value, str | bytes | list | tuple | dict) else 0


def _bits(value: Any) -> int:
    return abs(value).bit_length() if isinstance(value, int) else 0


class _BoundedCodeGenerator(CodeGenerator):
    """Compiles ``a ~ b`` through the environment, so concatenation is size-checked too."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.bounded_join((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """ImmutableSandboxedEnvironment that refuses results longer than `max_chars`."""

    code_generator_class = _BoundedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self, max_chars: int) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
        self.max_chars = max_chars
        self.filters = {name: self._bounded(name, f) for name, f in self.filters.items()}

    def _check(self, value: Any) -> Any:
        if _size(value) > self.max_chars:
            raise _TooBig(f"a value longer than {self.max_chars:,} characters")
        return value

    def _check_args(self, args: tuple, kwargs: Mapping[str, Any]) -> None:
        for arg in (*args, *kwargs.values()):
            if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > self.max_chars:
                raise _TooBig(f"a number above {self.max_chars:,} passed to a function")

    def _bounded(self, name: str, function: Callable) -> Callable:
        environment = self

        @wraps(function)
        def bounded(*args: Any, **kwargs: Any) -> Any:
            values = args[1:] if getattr(function, "jinja_pass_arg", None) else args
            if name in _PADDING_FILTERS:
                environment._check_args(values[1:], kwargs)  # values[0] is the filtered one
            if name == "format" and values and _WIDE_PRINTF.search(str(values[0])):
                raise _TooBig("a format width too large")
            return environment._check(function(*args, **kwargs))

        return bounded

    def bounded_join(self, parts: tuple) -> str:
        texts = [str(p) for p in parts]
        if sum(map(len, texts)) > self.max_chars:
            raise _TooBig(f"a text longer than {self.max_chars:,} characters")
        return "".join(texts)

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if _size(seq) and isinstance(times, int) and _size(seq) * times > self.max_chars:
                    raise _TooBig(f"a repeated value longer than {self.max_chars:,} characters")
        elif operator == "**":
            huge = isinstance(right, int) and (right > 4096 or _bits(left) * right > 65536)
            if huge and isinstance(left, int) and abs(left) > 1:
                raise _TooBig("a power too large to compute")
        elif operator == "%" and isinstance(left, str) and _WIDE_PRINTF.search(left):
            raise _TooBig("a format width too large")
        elif operator == "+" and _size(left) + _size(right) > self.max_chars:
            raise _TooBig(f"a value longer than {self.max_chars:,} characters")
        return self._check(super().call_binop(context, operator, left, right))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        owner = getattr(value, "__self__", None)
        formats = getattr(value, "__name__", "") in ("format", "format_map")
        if isinstance(owner, str) and formats and _WIDE_BRACES.search(owner):
            raise _TooBig("a format width too large")
        return super().wrap_str_format(value)

    def call(__self, __context, __obj, *args: Any, **kwargs: Any) -> Any:
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str | list) and getattr(__obj, "__name__", "") in _PADDING_METHODS:
            __self._check_args(args, kwargs)
        return __self._check(super().call(__context, __obj, *args, **kwargs))


@lru_cache(maxsize=8)
def environment(max_chars: int) -> BoundedEnvironment:
    """One environment per length limit (compiled templates are cached inside it)."""
    return BoundedEnvironment(max_chars)


@lru_cache(maxsize=2048)
def _compile(text: str, max_chars: int):
    return environment(max_chars).from_string(text)


def _problem(exc: BaseException, where: str) -> TemplateProblem:
    prefix = f"{where}: " if where else ""
    if isinstance(exc, TemplateSyntaxError):
        return TemplateProblem(f"{prefix}template syntax error on line {exc.lineno}: {exc.message}")
    if isinstance(exc, UndefinedError):
        return TemplateProblem(f"{prefix}template refers to something undefined: {exc.message}")
    if isinstance(exc, _TooBig):
        return TemplateProblem(f"{prefix}template refused: it would build {exc}.")
    if isinstance(exc, SecurityError):
        return TemplateProblem(f"{prefix}template refused by the sandbox: {exc}")
    if isinstance(exc, RecursionError):
        return TemplateProblem(f"{prefix}template nests too deeply.")
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return TemplateProblem(f"{prefix}template failed: {message}")


def check(text: str, *, where: str = "", limits: Limits = Limits()) -> None:
    """Raise TemplateProblem unless `text` parses as a template."""
    if not is_template(text):
        return
    try:
        _compile(text, limits.max_chars)
    except TemplateSyntaxError as exc:
        raise _problem(exc, where) from None


def _run_with_deadline(function: Callable[[], str], seconds: float) -> str:
    deadline = time.monotonic() + seconds
    ticks = 0

    def tracer(frame, event, arg):
        nonlocal ticks
        ticks += 1
        if ticks % 256 == 0 and time.monotonic() > deadline:
            raise _TooSlow
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        return function()
    finally:
        sys.settrace(previous)


def render(
    text: str, context: Mapping[str, Any], *, limits: Limits = Limits(), where: str = ""
) -> str:
    """Render one template under the sandbox and the limits; plain strings pass through."""
    if not is_template(text):
        return text
    try:
        template = _compile(text, limits.max_chars)

        def produce() -> str:
            out: list[str] = []
            size = 0
            for chunk in template.generate(dict(context)):
                size += len(chunk)
                if size > limits.max_chars:
                    raise _TooBig(f"a text longer than {limits.max_chars:,} characters")
                out.append(chunk)
            return "".join(out)

        return _run_with_deadline(produce, limits.seconds)
    except _TooSlow:
        raise TemplateProblem(
            f"{where + ': ' if where else ''}template took longer than {limits.seconds:g} s "
            "to render."
        ) from None
    except (TemplateError, RecursionError, ArithmeticError, TypeError, ValueError) as exc:
        raise _problem(exc, where) from None


def render_value(
    value: Any, context: Mapping[str, Any], *, limits: Limits = Limits(), where: str = ""
) -> Any:
    """Render every template string inside a parameter value (dicts and lists too)."""
    if isinstance(value, str):
        return render(value, context, limits=limits, where=where)
    if isinstance(value, Mapping):
        return {
            k: render_value(v, context, limits=limits, where=f"{where}.{k}")
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [
            render_value(v, context, limits=limits, where=f"{where}[{i}]")
            for i, v in enumerate(value)
        ]
    return value


def templates_in(value: Any, where: str = "") -> list[tuple[str, str]]:
    """(location, template text) of every template string inside a parameter value."""
    if is_template(value):
        return [(where, value)]
    if isinstance(value, Mapping):
        return [
            t for k, v in value.items() for t in templates_in(v, f"{where}.{k}" if where else k)
        ]
    if isinstance(value, list | tuple):
        return [t for i, v in enumerate(value) for t in templates_in(v, f"{where}[{i}]")]
    return []


_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off", "", "none", "null"}


def truthy(rendered: str, *, where: str = "") -> bool:
    """A rendered condition as a boolean: true/false, yes/no, 1/0 (and empty is false)."""
    text = rendered.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise TemplateProblem(
        f"{where + ': ' if where else ''}a condition must render to true or false, "
        f"got {rendered.strip()[:60]!r}."
    )
