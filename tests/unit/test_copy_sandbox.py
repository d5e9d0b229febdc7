"""The template sandbox: ordinary templates render; escapes, huge values and long loops stop."""

from __future__ import annotations

import time

import pytest

from core.copy import sandbox
from core.copy.sandbox import TemplateLimitError, TemplateLimits, render
from core.errors import UserInputError


def test_ordinary_templates_render_with_the_copy_filters():
    source = (
        "{{ p.name|upper }} at {{ p.price|money }}: {{ p.features|sentence }}. "
        "{% for f in p.features %}[{{ loop.index }}:{{ f|title }}]{% endfor %}"
        "{{ ', '.join(['x']) if false else p.features|join('/') }}"
    )
    out = render(source, {"p": {"name": "Tent", "price": 1234.5, "features": ["light", "dry"]}})
    assert out == "TENT at $1,234.50: light and dry. [1:Light][2:Dry]light/dry"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{{ 'a' * 50000000 }}", "A repeated value would exceed 20,000 characters."),
        ("{{ range(100000)|join('x' * 1000) }}", "A join() in the template would build too long"),
        ("{{ ''.__class__.__mro__ }}", "access to attribute '__class__' of 'str' object is unsafe"),
        ("{{ x.pop('a') }}", "access to attribute 'pop' of 'dict' object is unsafe"),
        ("{{ '{:>999999999}'.format(1) }}", "str.format is not available in templates."),
        ("{{ '%0999999999d' % 1 }}", "A %-format width in the template is too large."),
        ("{{ 10 ** (10 ** 10) }}", "A power in the template is too large."),
        ("{{ ('ab' * 9000) ~ ('ab' * 9000) ~ ('ab' * 9000) }}", "output passed 20,000"),
        (
            "{% macro f(s, n) %}{{ f(s ~ s, n - 1) if n else s|length }}{% endmacro %}"
            "{{ f('a', 40) }}",
            "grew past 20,000 characters or items",
        ),
        ("{{ 'abc'|replace('', 'y' * 9000) }}", "A replace() in the template would build too long"),
    ],
)
def test_values_that_would_grow_without_bound_are_refused(source, message):
    with pytest.raises(TemplateLimitError) as refused:
        render(source, {"x": {"a": 1}})
    assert message in str(refused.value)


def test_the_unsafe_parts_of_jinja_are_not_there():
    for source, missing in (
        ("{{ 'a'|center(1000000000) }}", "No filter named 'center'"),
        ("{{ lipsum(100000) }}", "'lipsum' is undefined"),
        ("{{ namespace(a=1) }}", "'namespace' is undefined"),
        ("{{ cycler }}{{ joiner() }}", "'joiner' is undefined"),
    ):
        with pytest.raises(UserInputError, match=missing):
            render(source, {})


def test_nested_loops_stop_at_the_time_limit_even_with_empty_bodies():
    source = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    started = time.perf_counter()
    with pytest.raises(TemplateLimitError, match=r"ran longer than 0\.2 s"):
        render(source, {}, TemplateLimits(seconds=0.2))
    assert time.perf_counter() - started < 1.0


def test_loops_over_a_list_built_once_also_stop():
    source = "{% set xs = [1] * 20000 %}{% for a in xs %}{% for b in xs %}{% endfor %}{% endfor %}"
    with pytest.raises(TemplateLimitError, match="ran longer than"):
        render(source, {}, TemplateLimits(seconds=0.2))


def test_output_is_capped_while_it_streams():
    source = "{% for i in range(5000) %}{{ 'abcdefghij' }}{% endfor %}"
    with pytest.raises(TemplateLimitError, match="output passed 1,000 characters"):
        render(source, {}, TemplateLimits(max_output_chars=1000))
    assert len(render(source, {}, TemplateLimits(max_output_chars=50_000))) == 50_000


def test_syntax_errors_and_oversized_templates_say_what_to_fix():
    with pytest.raises(UserInputError, match="Template line 2: "):
        render("fine\n{% if %}", {})
    with pytest.raises(UserInputError, match="the limit is 20,000"):
        sandbox.check("x" * (sandbox.MAX_TEMPLATE_CHARS + 1))


def test_limits_do_not_leak_into_the_next_render():
    with pytest.raises(TemplateLimitError):
        render("{% for i in range(100000) %}{% for j in range(9999) %}{% endfor %}{% endfor %}",
               {}, TemplateLimits(seconds=0.05))  # fmt: skip
    # A fresh render gets a fresh deadline.
    assert render("{% for i in range(3) %}{{ i }}{% endfor %}", {}) == "012"
