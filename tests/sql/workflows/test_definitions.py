"""Definitions: validation names every problem with its JSON path, an
invalid definition is never stored, and a new version leaves running
executions on theirs."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from psycopg.types.json import Jsonb

from intime.errors import InvalidDefinitionError, PermissionDeniedError
from tests.sql.workflows.conftest import Flows

VALID: dict[str, Any] = {
    "triggers": [{"type": "status_change", "to": "won"}],
    "conditions": {"all": [{"field": "value", "operator": "gt", "value": 1000}]},
    "steps": [{"name": "task", "type": "create_task", "title": "Call {{deal.name}}"}],
}


def problems(flows: Flows, definition: Any, entity_type: str = "deal") -> dict[str, str]:
    rows = flows.call(
        "select path, problem from api.validate_workflow_definition("
        "p_definition => %s, p_entity_type => %s)",
        (Jsonb(definition), entity_type),
    )
    return {r["path"]: r["problem"] for r in rows}


def test_a_valid_definition_has_no_problems(flows: Flows) -> None:
    assert problems(flows, VALID) == {}


def test_a_malformed_filter_in_a_steps_text_is_a_problem(flows: Flows) -> None:
    steps = [
        {"name": "ok", "type": "create_task", "title": "Call {{deal.name | default: 'them'}}"},
        {"name": "bad", "type": "create_task", "title": "Call {{deal.name | upper}}"},
        {
            "name": "mail",
            "type": "send_notification",
            "to": ["owner"],
            "title": "Hi",
            "message": '{{deal.name | default: "x}}',
        },
    ]
    found = problems(flows, {**VALID, "steps": steps})
    assert set(found) == {"$.steps[1].title", "$.steps[2].message"}
    assert found["$.steps[1].title"].startswith("malformed filter {{deal.name | upper}}")


def test_every_problem_is_reported_with_its_path(flows: Flows) -> None:
    found = problems(
        flows,
        {
            "triggers": [
                {"type": "status_change", "to": "won"},
                {"type": "field_change", "field": "nope"},
                {"type": "teleported"},
                {"type": "scheduled", "cron": "61 * * * *", "timezone": "Mars/Olympus"},
            ],
            "conditions": {
                "any": [
                    {"field": "value", "operator": "about", "value": 1},
                    {"field": "colour", "operator": "eq", "value": "red"},
                    {"field": "value", "operator": "in", "value": 3},
                ]
            },
            "steps": [
                {"name": "a", "type": "update_field", "field": "stage_id", "value": "x"},
                {"name": "a", "type": "wait"},
                {"name": "c", "type": "condition", "if": {"field": "value", "operator": "gt"}},
                {"name": "d", "type": "webhook", "url": "ftp://example.com"},
                {"name": "e", "type": "create_task", "title": "t", "next": "nowhere"},
                {"name": "f", "type": "approval", "approvers": [], "mode": "some"},
                {"name": "g", "type": "assign", "mode": "round_robin", "users": ["bob"]},
                {"name": "h", "type": "fly"},
            ],
            "colour": "blue",
        },
    )
    expected = {
        "$.triggers[1].field",
        "$.triggers[2].type",
        "$.triggers[3].cron",
        "$.triggers[3].timezone",
        "$.conditions.any[0].operator",
        "$.conditions.any[1].field",
        "$.conditions.any[2].value",
        "$.steps[0].field",
        "$.steps[1].name",
        "$.steps[1]",
        "$.steps[2].if.value",
        "$.steps[3].url",
        "$.steps[4].next",
        "$.steps[5].approvers",
        "$.steps[6].users[0]",
        "$.steps[7].type",
        "$.colour",
    }
    assert expected <= set(found), sorted(set(expected) - set(found))
    assert "stage_id" in found["$.steps[0].field"]
    assert "allowed:" in found["$.steps[0].field"]


def test_state_machine_problems_are_reported(flows: Flows) -> None:
    found = problems(
        flows,
        {
            "triggers": [{"type": "manual"}],
            "states": [{"name": "draft"}, {"name": "done", "type": "final"}],
            "transitions": [
                {"name": "go", "from": "draft", "to": "limbo", "required_role": "king"},
            ],
        },
    )
    assert set(found) == {"$.states", "$.transitions[0].to", "$.transitions[0].required_role"}


def test_an_unknown_entity_type_is_a_problem(flows: Flows) -> None:
    assert problems(flows, VALID, "spaceship") == {"$": "unknown entity type 'spaceship'"}


def test_an_invalid_definition_is_never_stored(flows: Flows) -> None:
    bad = {**VALID, "steps": [{"name": "x", "type": "update_field", "field": "org_id", "value": 1}]}
    with pytest.raises(InvalidDefinitionError, match=r"\$\.steps\[0\]\.field"):
        flows.create(bad)
    assert flows.owner.execute("select count(*) from app.workflows").fetchone() == (0,)


def test_only_admins_create_workflows(flows: Flows) -> None:
    with pytest.raises(PermissionDeniedError):
        flows.call(
            "select api.create_workflow(p_name => 'x', p_entity_type => 'deal', "
            "p_definition => %s)",
            (Jsonb(VALID),),
            user=flows.orgs.a.rep_ids[0],
        )


def test_update_bumps_the_version_and_running_executions_keep_theirs(flows: Flows) -> None:
    wf = flows.create(
        {
            "triggers": [{"type": "updated"}],
            "steps": [
                {"name": "pause", "type": "wait", "duration": "PT1H"},
                {"name": "note", "type": "create_activity", "subject": "version one"},
            ],
        }
    )
    deal = flows.orgs.a.deal_ids[1]
    flows.write("update app.deals set name = 'v1 run' where id = %s", (deal,))
    flows.drain()
    rows = flows.call(
        "select api.update_workflow(p_workflow_id => %s, p_changes => %s) as version",
        (
            wf,
            Jsonb(
                {
                    "definition": {
                        "triggers": [{"type": "updated"}],
                        "steps": [
                            {"name": "note", "type": "create_activity", "subject": "version two"}
                        ],
                    }
                }
            ),
        ),
    )
    assert rows[0]["version"] == 2
    flows.at("2099-01-01T00:00:00Z")
    flows.sweep()
    flows.drain()
    (execution,) = flows.executions(wf)
    assert execution["workflow_version"] == 1
    assert execution["status"] == "completed"
    subjects = flows.owner.execute(
        "select subject from app.activities where entity_id = %s and subject like 'version%%'",
        (deal,),
    ).fetchall()
    assert subjects == [("version one",)]
    versions = flows.owner.execute(
        "select version from app.workflow_versions where workflow_id = %s order by 1", (wf,)
    ).fetchall()
    assert versions == [(1,), (2,)]


def approval_workflow_definition(config: dict) -> dict:
    return {
        "triggers": [{"type": "manual"}],
        "steps": [{"name": "ok", "type": "approval", **config}],
    }


def test_an_unknown_escalate_to_user_is_refused_by_validation(flows: Flows) -> None:
    a = flows.orgs.a
    rows = flows.call(
        "select path from api.validate_workflow_definition(%s, 'deal')",
        (
            Jsonb(
                approval_workflow_definition(
                    {"approvers": [{"user": str(a.rep_ids[1])}], "escalate_to": str(uuid.uuid4())}
                )
            ),
        ),
    )
    assert [r["path"] for r in rows] == ["$.steps[0].escalate_to"]


def test_transition_steps_may_not_take_the_engines_step_names(flows: Flows) -> None:
    rows = flows.call(
        "select path from api.validate_workflow_definition(%s, 'deal')",
        (
            Jsonb(
                {
                    "triggers": [{"type": "manual"}],
                    "states": [{"name": "a", "type": "initial"}, {"name": "b"}],
                    "transitions": [
                        {
                            "name": "t",
                            "from": "a",
                            "to": "b",
                            "approval": {"approvers": [{"manager": True}], "next": "nowhere"},
                            "steps": [{"name": "move", "type": "create_activity", "subject": "s"}],
                        }
                    ],
                }
            ),
        ),
    )
    assert {r["path"] for r in rows} == {
        "$.transitions[0].approval.next",
        "$.transitions[0].steps[0].name",
    }


def test_unknown_step_keys_are_problems(flows: Flows) -> None:
    rows = flows.call(
        "select path from api.validate_workflow_definition(%s, 'deal')",
        (
            Jsonb(
                approval_workflow_definition(
                    {"approvers": [{"manager": True}], "lok_entity": False}
                )
            ),
        ),
    )
    assert [r["path"] for r in rows] == ["$.steps[0].lok_entity"]


def test_reassign_on_a_type_whose_owner_is_not_updatable_is_a_problem(flows: Flows) -> None:
    rows = flows.call(
        "select path from api.validate_workflow_definition(%s, 'submission')",
        (
            Jsonb(
                {
                    "triggers": [{"type": "created"}],
                    "steps": [{"name": "e", "type": "escalate", "action": "reassign"}],
                }
            ),
        ),
    )
    assert [r["path"] for r in rows] == ["$.steps[0].action"]
