"""Workflow definitions: the issue's YAML form, validation messages naming the step, YAML
round trips, and the task schemas the designer renders as forms."""

from __future__ import annotations

import pytest

from core.errors import UserInputError
from core.workflows.definition import parse_yaml, to_yaml, topological_order
from core.workflows.tasks.base import all_task_types, param_fields, task_type
from core.workflows.templates import TEMPLATES

ISSUE_EXAMPLE = """\
name: weekly-kpi-email
variables: {threshold: 1000}
triggers:
  - {type: cron, cron: "0 8 * * MON", timezone: Europe/Berlin}
steps:
  - {id: revenue, type: query, params: {sql: "select sum(amount) as revenue from orders"}}
  - {id: low, type: condition, params: {expr: "{{ steps.revenue.output.rows[0].revenue < variables.threshold }}"}, depends_on: [revenue]}
  - {id: pause, type: wait, params: {seconds: 5}, depends_on: [low], when: "{{ steps.low.output }}"}
  - {id: mail, type: notify, params: {channel: email, to: "ops@example.com", subject: "Revenue {{ steps.revenue.output.rows[0].revenue }}"}, depends_on: [pause], retry: {attempts: 3, backoff_seconds: 10}, timeout: 60}
"""  # noqa: E501


def one_step(step: str, extra: str = "") -> str:
    return f"name: w\n{extra}steps:\n  - {step}\n"


def test_the_issue_example_parses_with_every_key():
    definition = parse_yaml(ISSUE_EXAMPLE)
    assert definition.name == "weekly-kpi-email"
    assert definition.variables == {"threshold": 1000}
    (trigger,) = definition.triggers
    assert (trigger.type, trigger.cron, trigger.timezone) == (
        "cron",
        "0 8 * * MON",
        "Europe/Berlin",
    )
    assert [s.id for s in definition.steps] == ["revenue", "low", "pause", "mail"]
    mail = definition.step("mail")
    assert (mail.type, mail.depends_on, mail.timeout) == ("notify", ["pause"], 60)
    assert (mail.retry.attempts, mail.retry.backoff_seconds) == (3, 10)
    assert definition.step("pause").when == "{{ steps.low.output }}"
    assert topological_order(definition.steps) == ["revenue", "low", "pause", "mail"]


def test_yaml_round_trip_keeps_the_definition():
    definition = parse_yaml(ISSUE_EXAMPLE)
    again = parse_yaml(to_yaml(definition))
    assert again == definition
    assert to_yaml(definition).splitlines()[0] == "name: weekly-kpi-email"


def test_defaults_a_manual_trigger_and_queue_policy():
    definition = parse_yaml(one_step("{id: a, type: wait, params: {seconds: 1}}"))
    assert [t.type for t in definition.triggers] == ["manual"]
    assert (definition.policy.overlap, definition.policy.concurrency) == ("queue", 1)
    assert (definition.policy.missed, definition.policy.catch_up_max) == ("skip", 1)


WAIT = "params: {seconds: 1}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            one_step("{id: a, type: qury, params: {}}"),
            "Step 'a': unknown task type 'qury'; choose one of: ",
        ),
        (
            "name: w\nsteps:\n"
            f"  - {{id: a, type: wait, {WAIT}, depends_on: [b]}}\n"
            f"  - {{id: b, type: wait, {WAIT}, depends_on: [a]}}\n",
            "Step 'a': depends on itself through a cycle (a, b).",
        ),
        (
            one_step(f"{{id: a, type: wait, {WAIT}, depends_on: [zz]}}"),
            "Step 'a': depends on 'zz', which is not a step.",
        ),
        (
            one_step('{id: a, type: condition, params: {expr: "{{ 1 + }}"}}'),
            "Step 'a': params.expr: template syntax error on line 1:",
        ),
        (
            one_step(f'{{id: a, type: wait, {WAIT}, when: "{{% if %}}"}}'),
            "Step 'a': when: template syntax error",
        ),
        (
            one_step(
                f"{{id: a, type: wait, {WAIT}}}", 'triggers: [{type: cron, cron: "61 * * * *"}]\n'
            ),
            "Trigger 1 (cron): bad cron expression '61 * * * *' (Bad minute).",
        ),
        (
            one_step(
                f"{{id: a, type: wait, {WAIT}}}", 'triggers: [{type: cron, cron: "0 8 * *"}]\n'
            ),
            "Trigger 1 (cron): cron needs 5 fields",
        ),
        (
            one_step(
                f"{{id: a, type: wait, {WAIT}}}",
                'triggers: [{type: cron, cron: "0 8 * * *", timezone: Mars/Base}]\n',
            ),
            "Trigger 1 (cron): unknown time zone 'Mars/Base'",
        ),
        (
            one_step(f"{{id: a, type: wait, {WAIT}}}", "triggers: [{type: hourly}]\n"),
            "Trigger 1: unknown trigger type; choose manual, cron, interval",
        ),
        (
            one_step(
                f"{{id: a, type: wait, {WAIT}}}", "triggers: [{type: interval, seconds: 5}]\n"
            ),
            "Trigger 1 (interval): the interval must be at least 10 seconds.",
        ),
        (
            one_step(
                f"{{id: a, type: wait, {WAIT}}}", "triggers: [{type: file, folder: ../etc}]\n"
            ),
            "Trigger 1 (file): the folder is relative to the server import folder.",
        ),
        (
            one_step(
                f"{{id: a, type: wait, {WAIT}}}", "triggers: [{type: workflow, workflow: w}]\n"
            ),
            "Trigger 1 (workflow): a workflow cannot start itself.",
        ),
        (one_step("{id: a, type: query, params: {}}"), "Step 'a': params.sql is required."),
        (
            one_step("{id: a, type: query, params: {sql: x, foo: 1}}"),
            "Step 'a': params.foo is not a parameter of query.",
        ),
        (
            one_step("{id: a, type: wait, params: {seconds: soon}}"),
            "Step 'a': params.seconds: input should be a valid number",
        ),
        (
            "name: w\nsteps:\n"
            f"  - {{id: a, type: wait, {WAIT}}}\n  - {{id: a, type: wait, {WAIT}}}\n",
            "Step 'a': two steps have this id.",
        ),
        (
            one_step(f"{{id: a, type: wait, {WAIT}, retry: {{attempts: 0}}}}"),
            "Step 'a' retry.attempts: input should be greater than or equal to 1.",
        ),
        (
            one_step(f"{{id: a, type: wait, {WAIT}, retries: 3}}"),
            "Step 'a': 'retries' is not a known key.",
        ),
        (one_step("{type: wait, params: {seconds: 1}}"), "Step '#1' id is required."),
        ("name: w\nsteps: []\n", "A workflow needs at least one step."),
        ("name: w\nsteps: [\n", "The workflow YAML does not parse on line 3"),
        (
            one_step(f"{{id: items, type: wait, {WAIT}}}"),
            "Step 'items': an id is a letter then letters, digits or '_'",
        ),
        (
            'name: "my flow"\nsteps:\n  - {id: a, type: wait, params: {seconds: 1}}\n',
            "Workflow name 'my flow': use 1-100 letters",
        ),
        ("- just\n- a list\n", "A workflow definition is a mapping"),
    ],
)
def test_invalid_definitions_say_what_and_where(text, message):
    with pytest.raises(UserInputError) as failed:
        parse_yaml(text)
    assert str(failed.value).startswith(message), str(failed.value)
    assert "\n" not in str(failed.value)


def test_templated_parameters_are_checked_after_rendering_not_before():
    definition = parse_yaml(
        one_step(
            '{id: a, type: wait, params: {seconds: "{{ variables.s }}"}}', "variables: {s: 3}\n"
        )
    )
    assert definition.step("a").params == {"seconds": "{{ variables.s }}"}


def test_on_failure_steps_depend_only_on_each_other():
    text = (
        "name: w\nsteps:\n  - {id: a, type: wait, params: {seconds: 1}}\n"
        "on_failure:\n  - {id: alert, type: wait, params: {seconds: 1}, depends_on: [a]}\n"
    )
    with pytest.raises(
        UserInputError, match="On-failure step 'alert': depends on 'a', which is not"
    ):
        parse_yaml(text)


def test_every_task_type_has_a_form_schema_with_labels():
    types = all_task_types()
    assert {"query", "refresh_dataset", "kpi_check", "http", "export_report", "notify"} <= set(
        types
    )
    assert {"condition", "wait"} <= set(types)
    fields = {f.name: f for f in param_fields(task_type("query"))}
    assert (fields["sql"].kind, fields["sql"].required, fields["sql"].label) == (
        "multiline",
        True,
        "SQL",
    )
    assert (fields["max_rows"].kind, fields["max_rows"].default) == ("int", 1000)
    http = {f.name: f for f in param_fields(task_type("http"))}
    assert http["method"].kind == "choice" and "POST" in http["method"].choices
    assert http["headers"].kind == "mapping" and http["expected_status"].kind == "list"
    notify = {f.name: f for f in param_fields(task_type("notify"))}
    assert notify["channel"].choices == ("email", "webhook")
    for task in types.values():
        assert task.label and task.help
        for field in param_fields(task):
            assert field.label


def test_the_starter_templates_are_valid_definitions():
    names = {key: template.definition().name for key, template in TEMPLATES.items()}
    assert names == {
        "weekly_kpi_email": "weekly-kpi-email",
        "daily_forecast_refresh": "daily-forecast-refresh",
        "low_stock_alert": "low-stock-alert",
    }
    for template in TEMPLATES.values():
        definition = template.definition()
        assert all(step.type in all_task_types() for step in definition.steps)
