"""Step templates: rendering, strict undefined names, sandbox escapes refused, oversize
renders refused before they are built, and slow renders stopped."""

from __future__ import annotations

import time

import pytest

from core.workflows.templating import (
    Limits,
    TemplateProblem,
    check,
    render,
    render_value,
    templates_in,
    truthy,
)

LIMITS = Limits(max_chars=100_000, seconds=1.0)
CONTEXT = {
    "variables": {"threshold": 1000, "to": "ops@example.com"},
    "steps": {"revenue": {"output": {"rows": [{"revenue": 900.5}]}, "status": "succeeded"}},
    "trigger": {"path": "orders/new.csv"},
}


def test_renders_variables_outputs_and_filters():
    assert (
        render("{{ steps.revenue.output.rows[0].revenue < variables.threshold }}", CONTEXT)
        == "True"
    )
    assert render(
        "Revenue {{ '{:,.2f}'.format(steps.revenue.output.rows[0].revenue) }}", CONTEXT
    ) == ("Revenue 900.50")
    assert render("{{ trigger.path | upper }}", CONTEXT) == "ORDERS/NEW.CSV"
    assert render("no markup at all", CONTEXT) == "no markup at all"


def test_render_value_walks_mappings_and_lists():
    value = {"to": "{{ variables.to }}", "list": ["{{ 1 + 1 }}", 3], "n": 5}
    assert render_value(value, CONTEXT) == {"to": "ops@example.com", "list": ["2", 3], "n": 5}
    assert templates_in(value) == [("to", "{{ variables.to }}"), ("list[0]", "{{ 1 + 1 }}")]


def test_undefined_names_are_errors_not_empty_text():
    with pytest.raises(TemplateProblem, match="'nothing' is undefined"):
        render("{{ nothing }}", CONTEXT)
    with pytest.raises(TemplateProblem, match="has no attribute 'missing'"):
        render("{{ steps.revenue.missing }}", CONTEXT, where="params.subject")


def test_syntax_errors_are_found_without_rendering():
    check("{{ fine }}")
    with pytest.raises(TemplateProblem, match="template syntax error on line 2"):
        check("line one\n{{ broken ")


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{{ self._TemplateReference__context }}",
        "{{ variables.update({'threshold': 0}) }}",
        "{{ steps.revenue.output.rows.append(1) }}",
        "{{ lipsum.__globals__['os'].system('id') }}",
        "{{ ().__class__.__base__.__subclasses__() }}",
    ],
)
def test_sandbox_escapes_are_refused(template):
    with pytest.raises(TemplateProblem, match="refused by the sandbox"):
        render(template, CONTEXT, limits=LIMITS)
    assert CONTEXT["variables"]["threshold"] == 1000


@pytest.mark.parametrize(
    "template",
    [
        "{{ 'a' * 50000000 }}",
        "{{ [1] * 50000000 }}",
        "{{ 'a'|center(1000000000) }}",
        "{{ 'a'.ljust(1000000000) }}",
        "{{ '%1000000000d' % 1 }}",
        "{{ '{:>1000000000}'.format(1) }}",
        "{{ 9 ** 999999 }}",
        "{% for i in range(100000) %}{{ 'xxxxxxxxxx' }}{% endfor %}",
        "{% set ns = namespace(s='a') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}"
        "{% endfor %}{{ ns.s|length }}",
        "{{ 'ab'|replace('a', 'a' * 9999)|replace('a', 'a' * 9999) }}",
        "{{ (range(99999)|list) + (range(99999)|list) }}",
    ],
)
def test_oversize_renders_are_refused_quickly(template):
    started = time.perf_counter()
    with pytest.raises(TemplateProblem, match=r"refused: it would build|longer than"):
        render(template, CONTEXT, limits=LIMITS)
    assert time.perf_counter() - started < 1.5


def test_a_render_that_takes_too_long_is_stopped():
    slow = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    started = time.perf_counter()
    with pytest.raises(TemplateProblem, match=r"took longer than 0\.3 s"):
        render(slow, CONTEXT, limits=Limits(max_chars=1_000_000, seconds=0.3))
    assert time.perf_counter() - started < 1.0


def test_the_length_limit_is_a_setting_not_a_constant():
    assert len(render("{{ 'a' * 500 }}", CONTEXT, limits=Limits(max_chars=500))) == 500
    with pytest.raises(TemplateProblem):
        render("{{ 'a' * 501 }}", CONTEXT, limits=Limits(max_chars=500))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("True", True), (" yes\n", True), ("1", True), ("False", False), ("", False), ("None", False)],
)
def test_conditions_render_to_true_or_false(text, expected):
    assert truthy(text) is expected


def test_a_condition_that_is_neither_says_so():
    with pytest.raises(TemplateProblem, match="must render to true or false, got 'maybe'"):
        truthy("maybe", where="when")


def test_big_numbers_and_ordinary_formats_still_render():
    context = {"orders": 1_234_567, "revenue": 21_278_289.94}
    assert render("{{ '{:,}'.format(orders) }}", context) == "1,234,567"
    assert render("{{ '%d orders' % orders }}", context) == "1234567 orders"
    assert render("{{ '%.1f'|format(revenue) }}", context) == "21278289.9"
    assert render("{{ 'Order 1234567: {}'.format(orders) }}", context) == "Order 1234567: 1234567"
    assert render("{{ range(5)|sum }} {{ 'x'|center(5) }}|", context) == "10   x  |"
