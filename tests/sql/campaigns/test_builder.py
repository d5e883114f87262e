"""Building campaigns: create_campaign, add/update_sequence_step and
activate_campaign validation, who may change (or own) a campaign, a template a
step uses kept from deletion, the campaign_activated notification, and
pause/resume/complete (a paused campaign's queued emails wait)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from psycopg.types.json import Jsonb

from intime.errors import (
    InvalidParameterError,
    InvalidStateError,
    NotConfiguredError,
    NotFoundError,
    PermissionDeniedError,
)
from tests.sql.campaigns.conftest import Campaigns

# MONDAY_10 in UTC.
MONDAY_10_UTC = datetime(2026, 6, 1, 14, tzinfo=UTC)


def add_step(camp: Campaigns, cid: uuid.UUID, channel: str, **params: Any) -> None:
    camp.step(cid, channel, **params)


# create_campaign -------------------------------------------------------------


def test_an_overnight_window_is_refused_with_a_clear_message(camp: Campaigns) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        camp.create(send_window_start="22:00", send_window_end="06:00")
    assert str(caught.value).startswith(
        "send window must end after it starts (overnight windows are not supported): 22:00-06:00"
    )
    assert camp.owner.execute("select count(*) from app.campaigns").fetchone() == (0,)


def test_an_unknown_zone_is_refused(camp: Campaigns) -> None:
    with pytest.raises(InvalidParameterError, match="unknown time zone Mars/Olympus"):
        camp.create(timezone="Mars/Olympus")


def test_an_unknown_send_day_is_refused(camp: Campaigns) -> None:
    with pytest.raises(InvalidParameterError, match="unknown send day funday"):
        camp.create(send_days=["mon", "funday"])


def test_a_repeated_send_day_is_refused(camp: Campaigns) -> None:
    with pytest.raises(InvalidParameterError, match="must not repeat a day: mon, mon"):
        camp.create(send_days=["mon", "mon"])


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"ab_metric": "revenue"}, "A/B metric 'revenue': use reply, click or open"),
        ({"ab_min_sample_per_variant": 0}, "minimum sample per variant must be at least 1"),
        ({"ab_alpha": Decimal("0")}, r"significance level must be in \(0, 0.5\)"),
        ({"ab_alpha": Decimal("0.5")}, r"significance level must be in \(0, 0.5\)"),
        ({"ab_metric_window": "-1 day"}, "metric window is 0 to 365 days"),
        ({"daily_send_limit": 0}, "daily send limit must be at least 1"),
    ],
)
def test_bad_ab_settings_are_refused(
    camp: Campaigns, settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        camp.create(**settings)


def test_a_campaign_is_created_as_a_draft_owned_by_the_caller(camp: Campaigns) -> None:
    cid = camp.create(name="  Spring  ", daily_send_limit=50)
    c = camp.campaign(cid)
    assert (c["name"], c["status"], c["owner_id"], c["daily_send_limit"]) == (
        "Spring",
        "draft",
        camp.admin_id,
        50,
    )


def test_an_a_b_metric_window_over_a_year_is_refused(camp: Campaigns) -> None:
    with pytest.raises(InvalidParameterError, match="0 to 365 days"):
        camp.create(ab_metric_window="10000 years")


# Who may change a campaign ---------------------------------------------------


def test_a_rep_who_does_not_own_the_campaign_may_not_change_it(camp: Campaigns) -> None:
    cid = camp.create()
    rep = camp.orgs.a.rep_ids[0]
    with pytest.raises(PermissionDeniedError, match=r"owner or a holder of campaigns\.manage_any"):
        camp.call(
            "select api.add_sequence_step(p_campaign_id => %s, p_channel => 'wait')",
            (cid,),
            user=rep,
        )
    with pytest.raises(PermissionDeniedError):
        camp.call("select api.pause_campaign(p_campaign_id => %s)", (cid,), user=rep)
    assert camp.owner.execute("select count(*) from app.campaign_sequences").fetchone() == (0,)


def test_the_owning_rep_may_change_the_campaign(camp: Campaigns) -> None:
    rep = camp.orgs.a.rep_ids[0]
    cid = camp.create(owner_id=rep)
    camp.call(
        "select api.add_sequence_step(p_campaign_id => %s, p_channel => 'wait')", (cid,), user=rep
    )
    assert camp.owner.execute("select count(*) from app.campaign_sequences").fetchone() == (1,)


def test_another_orgs_admin_does_not_find_the_campaign(camp: Campaigns) -> None:
    cid = camp.create()
    b = camp.orgs.b
    with pytest.raises(NotFoundError, match=f"campaign {cid} not found"):
        camp.call(
            "select api.add_sequence_step(p_campaign_id => %s, p_channel => 'wait')",
            (cid,),
            user=b.admin_id,
            org_id=b.org_id,
        )
    with pytest.raises(NotFoundError):
        camp.call(
            "select api.activate_campaign(p_campaign_id => %s)",
            (cid,),
            user=b.admin_id,
            org_id=b.org_id,
        )
    assert camp.campaign(cid)["status"] == "draft"


def test_a_campaign_can_be_handed_to_another_owner(camp: Campaigns) -> None:
    cid = camp.create()
    camp.step(cid, "linkedin")
    camp.enroll(cid, camp.contacts(1))
    camp.activate(cid)
    rep = camp.orgs.a.rep_ids[1]
    camp.call(
        "select api.update_campaign(p_campaign_id => %s, p_changes => %s)",
        (cid, Jsonb({"owner_id": str(rep)})),
    )
    camp.tick()
    assignee = camp.owner.execute(
        "select assignee_id from app.activities where metadata ->> 'campaign_id' = %s",
        (str(cid),),
    ).fetchone()
    assert assignee == (rep,)
    with pytest.raises(NotFoundError):
        camp.call(
            "select api.update_campaign(p_campaign_id => %s, p_changes => %s)",
            (cid, Jsonb({"owner_id": str(camp.orgs.b.admin_id)})),
        )


# add_sequence_step -----------------------------------------------------------


def test_an_unknown_variable_is_refused_by_name(camp: Campaigns) -> None:
    cid = camp.create()
    with pytest.raises(InvalidParameterError) as caught:
        camp.email_step(cid, subject="Hi {{contact.foo}} and {{ contact.first_name }}")
    assert str(caught.value).startswith("subject uses unknown variables: contact.foo (known:")


def test_an_unknown_variable_in_a_variant_is_refused_by_name(camp: Campaigns) -> None:
    cid = camp.create()
    with pytest.raises(
        InvalidParameterError, match=r"variant B body_html uses unknown variables: deal\.name"
    ):
        camp.email_step(
            cid,
            ab_variants=[
                {"id": "A", "subject": "a", "body_html": "a"},
                {"id": "B", "subject": "b", "body_html": "{{deal.name}}"},
            ],
        )


def test_an_unknown_skip_condition_operator_is_refused(camp: Campaigns) -> None:
    cid = camp.create()
    with pytest.raises(InvalidParameterError, match="resembles"):
        camp.email_step(
            cid,
            skip_conditions=[{"field": "contact.title", "operator": "resembles", "value": "CEO"}],
        )


def test_a_non_email_step_with_a_subject_is_refused(camp: Campaigns) -> None:
    cid = camp.create()
    with pytest.raises(InvalidParameterError, match="a linkedin step has no email content"):
        camp.step(cid, "linkedin", subject="Hello")


def test_an_ab_test_with_one_variant_is_refused(camp: Campaigns) -> None:
    cid = camp.create()
    with pytest.raises(InvalidParameterError, match="at least 2 variants"):
        camp.email_step(cid, ab_variants=[{"id": "A", "subject": "a", "body_html": "a"}])


def test_duplicate_variant_ids_are_refused(camp: Campaigns) -> None:
    cid = camp.create()
    with pytest.raises(InvalidParameterError, match="A/B variant id 'A' is repeated"):
        camp.email_step(
            cid,
            ab_variants=[
                {"id": "A", "subject": "a", "body_html": "a"},
                {"id": "A", "subject": "b", "body_html": "b"},
            ],
        )


@pytest.mark.parametrize("weight", [0, -1])
def test_a_non_positive_weight_is_refused(camp: Campaigns, weight: int) -> None:
    cid = camp.create()
    with pytest.raises(InvalidParameterError, match="A/B variant B: weight must be a positive"):
        camp.email_step(
            cid,
            ab_variants=[
                {"id": "A", "subject": "a", "body_html": "a"},
                {"id": "B", "subject": "b", "body_html": "b", "weight": weight},
            ],
        )


def test_steps_are_numbered_in_order_and_a_taken_number_is_refused(camp: Campaigns) -> None:
    cid = camp.create()
    camp.email_step(cid)
    camp.step(cid, "wait", delay_hours=2)
    with pytest.raises(InvalidParameterError, match="already has a step 2"):
        camp.step(cid, "task", step_number=2)
    rows = camp.owner.execute(
        "select step_number, channel, delay_hours, subject from app.campaign_sequences "
        "where campaign_id = %s order by step_number",
        (cid,),
    ).fetchall()
    assert rows == [(1, "email", 0, "Hi {{contact.first_name}}"), (2, "wait", 2, None)]


def test_a_skip_condition_that_can_not_be_evaluated_is_refused_when_saved(
    camp: Campaigns,
) -> None:
    cid = camp.create()
    with pytest.raises(InvalidParameterError, match="in needs an array"):
        camp.email_step(
            cid, skip_conditions=[{"field": "engagement_score", "operator": "in", "value": 5}]
        )
    with pytest.raises(InvalidParameterError, match="unknown field 'nope'"):
        camp.email_step(cid, skip_conditions=[{"field": "nope", "operator": "eq", "value": 5}])


def test_an_empty_email_step_can_not_be_added_to_an_active_campaign(camp: Campaigns) -> None:
    cid = camp.create()
    camp.email_step(cid)
    camp.enroll(cid, camp.contacts(1))
    camp.activate(cid)
    with pytest.raises(InvalidParameterError, match="email step 2 has no content"):
        camp.step(cid, "email")


def test_an_email_step_can_not_be_added_to_an_active_campaign_without_email_settings(
    camp: Campaigns,
) -> None:
    camp.owner.execute("delete from app.email_settings where org_id = %s", (camp.org_id,))
    cid = camp.create()
    camp.step(cid, "task")
    camp.enroll(cid, camp.contacts(1))
    camp.activate(cid)
    with pytest.raises(NotConfiguredError):
        camp.email_step(cid)


def test_a_step_number_over_1000_is_refused(camp: Campaigns) -> None:
    cid = camp.create()
    with pytest.raises(InvalidParameterError, match="1 to 1000"):
        camp.step(cid, "wait", step_number=2147483647)


def test_an_email_template_a_step_uses_can_not_be_deleted(camp: Campaigns) -> None:
    template_id = camp.one(
        "insert into app.email_templates (slug, name, category, subject_template, "
        "html_template) values ('intro-x', 'Intro', 'marketing', 'Hi', '<p>Hi</p>') "
        "returning id"
    )
    cid = camp.create(name="Uses it")
    camp.step(cid, "email", template_id=template_id)
    with pytest.raises(InvalidStateError, match="used by step 1 of campaign Uses it"):
        camp.call("delete from app.email_templates where id = %s", (template_id,))


# activate_campaign -----------------------------------------------------------


def test_a_gap_in_the_step_numbers_is_refused_at_activation(camp: Campaigns) -> None:
    cid = camp.create()
    camp.email_step(cid, step_number=1)
    camp.step(cid, "wait", step_number=3)
    with pytest.raises(InvalidParameterError, match=r"numbered 1 to 2 without gaps \(found 1, 3\)"):
        camp.activate(cid)
    assert camp.campaign(cid)["status"] == "draft"


def test_an_email_step_without_content_is_refused_at_activation(camp: Campaigns) -> None:
    cid = camp.create()
    camp.step(cid, "wait")
    camp.step(cid, "email", subject="Only a subject")
    with pytest.raises(InvalidParameterError, match="email step 2 has no content"):
        camp.activate(cid)


def test_a_campaign_without_steps_is_refused_at_activation(camp: Campaigns) -> None:
    cid = camp.create()
    with pytest.raises(InvalidParameterError, match="no active steps"):
        camp.activate(cid)


def test_activating_an_active_campaign_is_an_invalid_state(camp: Campaigns) -> None:
    cid = camp.create()
    camp.email_step(cid)
    camp.activate(cid)
    with pytest.raises(InvalidStateError, match="only a draft campaign can be activated"):
        camp.activate(cid)


def test_activating_a_paused_campaign_is_an_invalid_state(camp: Campaigns) -> None:
    cid = camp.create()
    camp.email_step(cid)
    camp.activate(cid)
    camp.one("select api.pause_campaign(p_campaign_id => %s)", (cid,))
    with pytest.raises(InvalidStateError, match=r"activated \(this one is paused\)"):
        camp.activate(cid)
    assert camp.campaign(cid)["status"] == "paused"


def test_activation_notifies_the_owner_with_the_enrolled_count(camp: Campaigns) -> None:
    rep = camp.orgs.a.rep_ids[0]
    cid = camp.create(name="Launch", owner_id=rep)
    camp.email_step(cid)
    camp.enroll(cid, camp.contacts(3))
    assert camp.activate(cid) == 3
    rows = camp.owner.execute(
        "select user_id, title, message, category, action_url from app.notifications "
        "where template_slug = 'campaign_activated' and action_url = %s",
        (f"/campaigns/{cid}",),
    ).fetchall()
    assert rows == [
        (
            rep,
            "Campaign is now live",
            "Launch has been activated with 3 prospects",
            "campaign",
            f"/campaigns/{cid}",
        )
    ]
    c = camp.campaign(cid)
    assert (c["status"], c["activated_at"], c["total_active"], c["total_paused"]) == (
        "active",
        MONDAY_10_UTC,
        3,
        0,
    )


# pause / resume / complete ---------------------------------------------------


def _running(camp: Campaigns, n: int = 2) -> uuid.UUID:
    cid = camp.create()
    camp.email_step(cid)
    camp.email_step(cid, delay_days=1)
    camp.enroll(cid, camp.contacts(n))
    camp.activate(cid)
    return cid


def test_pause_parks_active_enrollments_and_the_tick_does_nothing(camp: Campaigns) -> None:
    cid = _running(camp)
    assert camp.one("select api.pause_campaign(p_campaign_id => %s)", (cid,)) == 2
    assert {(e["status"], e["stop_reason"], e["next_step_at"]) for e in camp.enrollments(cid)} == {
        ("paused", "campaign_paused", MONDAY_10_UTC)
    }
    tick = camp.tick()
    assert (tick["processed"], tick["more_due"]) == (0, False)
    assert camp.sends(cid) == []
    c = camp.campaign(cid)
    assert (c["status"], c["total_active"], c["total_paused"]) == ("paused", 0, 2)


def test_resume_makes_parked_enrollments_due_now(camp: Campaigns) -> None:
    cid = _running(camp)
    camp.one("select api.pause_campaign(p_campaign_id => %s)", (cid,))
    camp.at("2026-06-01 11:00:00-04")
    assert camp.one("select api.resume_campaign(p_campaign_id => %s)", (cid,)) == 2
    assert {(e["status"], e["stop_reason"], e["next_step_at"]) for e in camp.enrollments(cid)} == {
        ("active", None, datetime(2026, 6, 1, 15, tzinfo=UTC))
    }
    assert camp.tick()["sent"] == 2
    assert len(camp.sends(cid)) == 2


def test_resuming_an_active_campaign_is_an_invalid_state(camp: Campaigns) -> None:
    cid = _running(camp)
    with pytest.raises(InvalidStateError, match="only a paused campaign can be resumed"):
        camp.one("select api.resume_campaign(p_campaign_id => %s)", (cid,))


def test_complete_stops_enrollments_with_a_log_line(camp: Campaigns) -> None:
    cid = _running(camp, 3)
    camp.tick()  # step 1 for all three
    camp.one("select api.pause_campaign(p_campaign_id => %s)", (cid,))
    assert camp.one("select api.complete_campaign(p_campaign_id => %s)", (cid,)) == 3
    assert {(e["status"], e["stop_reason"], e["next_step_at"]) for e in camp.enrollments(cid)} == {
        ("stopped", "campaign_completed", None)
    }
    stops = [
        (log["step_number"], log["channel"], log["detail"])
        for log in camp.logs(cid)
        if log["status"] == "stopped"
    ]
    assert stops == [(1, "none", "campaign completed")] * 3
    c = camp.campaign(cid)
    assert (c["status"], c["total_stopped"], c["total_active"], c["total_paused"]) == (
        "completed",
        3,
        0,
        0,
    )
    with pytest.raises(InvalidStateError, match="already completed"):
        camp.one("select api.complete_campaign(p_campaign_id => %s)", (cid,))
    camp.at("2026-06-02 10:00:00-04")
    assert camp.tick()["processed"] == 0


def test_a_queued_step_email_waits_while_its_campaign_is_paused(camp: Campaigns) -> None:
    cid = camp.create()
    camp.email_step(cid)
    camp.email_step(cid, delay_days=1)
    [contact] = camp.contacts(1)
    camp.enroll(cid, [contact])
    camp.activate(cid)
    camp.tick()
    [send] = camp.sends(cid)
    camp.call("select api.pause_campaign(p_campaign_id => %s)", (cid,))
    [claim] = camp.call(
        "select action, retry_after_seconds from api.claim_email_send(p_email_send_id => %s)",
        (send["id"],),
    )
    assert (claim["action"], claim["retry_after_seconds"]) == ("defer", 600)
    camp.call("select api.resume_campaign(p_campaign_id => %s)", (cid,))
    [claim] = camp.call(
        "select action from api.claim_email_send(p_email_send_id => %s)", (send["id"],)
    )
    assert claim["action"] == "send"


def test_a_paused_campaign_holds_its_last_steps_email_too(camp: Campaigns) -> None:
    cid = camp.create()
    camp.email_step(cid)
    camp.enroll(cid, camp.contacts(1))
    camp.activate(cid)
    camp.tick()
    [send] = camp.sends(cid)
    assert camp.enrollments(cid)[0]["status"] == "completed"
    camp.call("select api.pause_campaign(p_campaign_id => %s)", (cid,))
    [claim] = camp.call(
        "select action from api.claim_email_send(p_email_send_id => %s)", (send["id"],)
    )
    assert claim["action"] == "defer"


# update_sequence_step --------------------------------------------------------

UPDATE_STEP = "select api.update_sequence_step(p_step_id => %s, p_changes => %s)"


def test_an_updated_step_applies_to_the_next_run(camp: Campaigns) -> None:
    cid = camp.create()
    step = camp.email_step(cid)
    camp.enroll(cid, camp.contacts(1))
    camp.activate(cid)
    camp.call(
        "select api.update_sequence_step(p_step_id => %s, p_changes => %s)",
        (step, Jsonb({"subject": "New {{ campaign.name }}"})),
    )
    camp.tick()
    [send] = camp.sends(cid)
    assert send["subject"] == "New Outreach"
    row = camp.owner.execute(
        "select subject, body_html from app.campaign_sequences where id = %s", (step,)
    ).fetchone()
    assert row == (
        "New {{campaign.name}}",
        "<p>Hello {{contact.first_name}} at {{contact.company}}</p>",
    )


def test_an_update_with_an_unknown_variable_changes_nothing(camp: Campaigns) -> None:
    cid = camp.create()
    step = camp.email_step(cid)
    with pytest.raises(InvalidParameterError, match=r"body_text uses unknown variables: x\.y"):
        camp.call(
            "select api.update_sequence_step(p_step_id => %s, p_changes => %s)",
            (step, Jsonb({"body_text": "{{x.y}}"})),
        )
    row = camp.owner.execute(
        "select body_text from app.campaign_sequences where id = %s", (step,)
    ).fetchone()
    assert row == (None,)


def test_an_update_that_leaves_an_active_campaign_unrunnable_is_refused(camp: Campaigns) -> None:
    cid = camp.create()
    camp.email_step(cid)
    wait = camp.step(cid, "wait", step_number=2)
    camp.activate(cid)
    camp.call(UPDATE_STEP, (wait, Jsonb({"delay_hours": 3})))
    with pytest.raises(InvalidParameterError, match="email step 2 has no content"):
        camp.call(UPDATE_STEP, (wait, Jsonb({"channel": "email"})))
    row = camp.owner.execute(
        "select channel, delay_hours from app.campaign_sequences where id = %s", (wait,)
    ).fetchone()
    assert row == ("wait", 3)


def test_a_rep_who_does_not_own_the_campaign_may_not_update_a_step(camp: Campaigns) -> None:
    cid = camp.create()
    step = camp.email_step(cid)
    with pytest.raises(PermissionDeniedError):
        camp.call(
            UPDATE_STEP,
            (step, Jsonb({"subject": "x"})),
            user=camp.orgs.a.rep_ids[1],
        )
