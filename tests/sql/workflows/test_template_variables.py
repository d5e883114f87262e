"""Unknown template variables in a workflow definition are refused when it is saved
(IT012, issue 16): a step's texts, and the email or notification template a step sends,
may use only what the workflow gives them (app._wf_template_variables) and the step's own
variables."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from intime.errors import InvalidDefinitionError, InvalidParameterError
from tests.sql.core.test_template_variables import _email_template
from tests.sql.workflows.conftest import Flows
from tests.support import TwoOrgs


def _deal_workflow(steps: list[dict[str, Any]]) -> dict[str, Any]:
    return {"triggers": [{"type": "manual"}], "steps": steps}


def test_a_workflow_step_with_an_unknown_variable_is_refused(flows: Flows) -> None:
    steps = [{"name": "thank", "type": "create_task", "title": "Thank {{ contact.first_name }}"}]
    with pytest.raises(InvalidDefinitionError) as caught:
        flows.create(_deal_workflow(steps))
    assert "$.steps[0].title: unknown variable contact.first_name" in str(caught.value)
    assert "deal.<column>" in str(caught.value)


def test_unknown_variables_inside_json_values_are_refused_with_their_path(flows: Flows) -> None:
    steps = [
        {
            "name": "hook",
            "type": "webhook",
            "url": "https://hooks.example/{{ deal.id }}",
            "body": {"deal": {"name": "{{ deal.name }}", "colour": ["{{ deal.colour }}"]}},
        }
    ]
    with pytest.raises(InvalidDefinitionError, match=r"\$\.steps\[0\]\.body\.deal\.colour\[0\]"):
        flows.create(_deal_workflow(steps))


def test_a_workflow_step_may_use_what_the_workflow_gives(flows: Flows) -> None:
    steps = [
        {
            "name": "task",
            "type": "create_task",
            "title": "Call {{ deal.name }} for {{ owner.name }} ({{ org.name }})",
            "description": (
                '{{ entity.value }} {{ trigger.payload.reason | default: "no reason" }} '
                "{{ workflow.name }} v{{ workflow.version }} {{ execution.id }} {{ now }}"
            ),
        },
        {
            "name": "note",
            "type": "create_activity",
            "subject": "Task {{ steps.task.activity_id }}",
        },
    ]
    assert flows.create(_deal_workflow(steps))


def test_a_workflow_email_whose_template_uses_an_unknown_variable_is_refused(
    flows: Flows, service: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    """The "Thanks  for Big deal" email: contact.first_name is no deal workflow variable."""
    _email_template(
        service,
        two_orgs,
        "Thanks {{ contact.first_name }} for {{ deal.name }}",
        slug="won-thanks",
    )
    steps = [{"name": "thank", "type": "send_email", "to": "owner.email", "template": "won-thanks"}]
    with pytest.raises(InvalidDefinitionError) as caught:
        flows.create(_deal_workflow(steps))
    assert "$.steps[0].template: email template 'won-thanks' uses contact.first_name" in str(
        caught.value
    )


def test_a_workflow_email_may_give_its_template_variables(
    flows: Flows, service: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    _email_template(
        service,
        two_orgs,
        "Thanks {{ contact.first_name }} for {{ deal.name }}",
        slug="won-thanks",
    )
    steps = [
        {
            "name": "thank",
            "type": "send_email",
            "to": "owner.email",
            "template": "won-thanks",
            "variables": {"contact": {"first_name": "{{ owner.name }}"}},
        }
    ]
    assert flows.create(_deal_workflow(steps))


def test_a_workflow_notification_whose_template_uses_an_unknown_variable_is_refused(
    flows: Flows,
) -> None:
    # task_assigned renders task.title and assigner.name: a deal workflow has neither.
    steps = [{"name": "tell", "type": "send_notification", "template": "task_assigned"}]
    with pytest.raises(InvalidDefinitionError, match="notification template 'task_assigned'"):
        flows.create(_deal_workflow(steps))
    steps[0]["variables"] = {"task": {"title": "{{ deal.name }}"}, "assigner": {"name": "Bot"}}
    assert flows.create(_deal_workflow(steps))


def test_validate_lists_unknown_variables_without_raising(flows: Flows) -> None:
    rows = flows.call(
        "select path, problem from api.validate_workflow_definition(p_definition => %s)",
        (Jsonb(_deal_workflow([{"name": "t", "type": "create_task", "title": "{{ x.y }}"}])),),
    )
    assert [r["path"] for r in rows] == ["$.steps[0].title"]


# --- an edited template must still suit the workflows that send it


def _edit_email_template(flows: Flows, slug: str, subject: str) -> None:
    flows.write(
        "update app.email_templates set subject_template = %s where slug = %s", (subject, slug)
    )


def test_editing_a_template_a_deal_workflow_sends_to_use_a_contact_variable_is_refused(
    flows: Flows, service: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    """The edit that would make the saved workflow send "Thanks  for Big deal"."""
    _email_template(service, two_orgs, "Thanks for {{ deal.name }}", slug="won-thanks")
    steps = [{"name": "thank", "type": "send_email", "to": "owner.email", "template": "won-thanks"}]
    flows.create(_deal_workflow(steps), name="Deal won")
    with pytest.raises(InvalidParameterError) as caught:
        _edit_email_template(flows, "won-thanks", "Thanks {{ contact.first_name }}")
    assert (
        "email template 'won-thanks' uses contact.first_name, which workflow 'Deal won' "
        "($.steps[0].template) does not give it"
    ) in str(caught.value)
    subject = flows.call(
        "select subject_template from app.email_templates where slug = %s", ("won-thanks",)
    )
    assert subject == [{"subject_template": "Thanks for {{ deal.name }}"}]


def test_editing_a_template_no_workflow_sends_may_use_any_known_variable(
    flows: Flows, service: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    _email_template(service, two_orgs, "Thanks for {{ deal.name }}", slug="won-thanks")
    _email_template(service, two_orgs, "Other", slug="other")
    steps = [{"name": "thank", "type": "send_email", "to": "owner.email", "template": "other"}]
    flows.create(_deal_workflow(steps), name="Deal won")
    _edit_email_template(flows, "won-thanks", "Thanks {{ contact.first_name }}")


def test_editing_a_template_to_use_what_the_workflow_gives_is_accepted(
    flows: Flows, service: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    _email_template(service, two_orgs, "Thanks for {{ deal.name }}", slug="won-thanks")
    steps = [
        {
            "name": "thank",
            "type": "send_email",
            "to": "owner.email",
            "template": "won-thanks",
            "variables": {"contact": {"first_name": "{{ owner.name }}"}},
        }
    ]
    flows.create(_deal_workflow(steps), name="Deal won")
    _edit_email_template(
        flows, "won-thanks", "{{ contact.first_name }}: {{ deal.name }} for {{ owner.name }}"
    )


def test_a_deleted_workflow_does_not_hold_its_template_back(
    flows: Flows, service: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    _email_template(service, two_orgs, "Thanks for {{ deal.name }}", slug="won-thanks")
    steps = [{"name": "thank", "type": "send_email", "to": "owner.email", "template": "won-thanks"}]
    workflow = flows.create(_deal_workflow(steps), name="Deal won")
    flows.write("select api.delete_workflow(p_workflow_id => %s)", (workflow,))
    _edit_email_template(flows, "won-thanks", "Thanks {{ contact.first_name }}")


def test_editing_a_template_a_transition_sends_is_checked_too(
    flows: Flows, service: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    _email_template(service, two_orgs, "Moved {{ deal.name }}", slug="moved")
    definition = {
        "triggers": [{"type": "manual"}],
        "states": [{"name": "open", "type": "initial"}, {"name": "won", "type": "final"}],
        "transitions": [
            {
                "name": "win",
                "from": "open",
                "to": "won",
                "steps": [
                    {"name": "tell", "type": "send_email", "to": "owner.email", "template": "moved"}
                ],
            }
        ],
    }
    flows.create(definition, name="Pipeline")
    with pytest.raises(
        InvalidParameterError, match=r"workflow 'Pipeline' \(\$\.transitions\[0\]\.steps\[0\]"
    ):
        _edit_email_template(flows, "moved", "Moved {{ contact.email }}")


def test_an_org_notification_template_a_workflow_sends_must_suit_it(
    flows: Flows, service: psycopg.Connection, two_orgs: TwoOrgs
) -> None:
    """Overriding task_assigned, which a deal workflow sends with the variables it needs."""
    steps = [
        {
            "name": "tell",
            "type": "send_notification",
            "template": "task_assigned",
            "variables": {"task": {"title": "{{ deal.name }}"}, "assigner": {"name": "Bot"}},
        }
    ]
    flows.create(_deal_workflow(steps), name="Tell")
    insert = (
        "insert into app.notification_templates (name, slug, category, title_template, "
        "message_template) values ('N', 'task_assigned', 'assignment', %s, 'm')"
    )
    with pytest.raises(
        InvalidParameterError,
        match=r"notification template 'task_assigned' uses contact\.email, which workflow 'Tell'",
    ):
        flows.write(insert, ("{{ task.title }} for {{ contact.email }}",))
    flows.write(insert, ("{{ task.title }} from {{ assigner.name }} ({{ deal.name }})",))
