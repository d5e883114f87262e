"""Integrity rules beyond foreign keys: references, authorship, keys, pipeline."""

from __future__ import annotations

import psycopg
import pytest

from intime.db import actor
from intime.errors import InvalidParameterError, NotFoundError
from tests.support import Database, TwoOrgs


def test_an_activity_cannot_point_at_another_orgs_entity(service, two_orgs: TwoOrgs) -> None:
    with pytest.raises(NotFoundError, match="deal"), actor(service, two_orgs.a.org_id):
        service.execute(
            "insert into app.activities (entity_type, entity_id, type, subject) "
            "values ('deal', %s, 'task', 'x')",
            (two_orgs.b.deal_ids[0],),
        )


def test_a_secondary_reference_needs_a_registered_type(service, two_orgs: TwoOrgs) -> None:
    with pytest.raises(InvalidParameterError, match="nonsense"), actor(service, two_orgs.a.org_id):
        service.execute(
            "insert into app.activities (entity_type, entity_id, secondary_entity_type, "
            "secondary_entity_id, type, subject) values ('deal', %s, 'nonsense', %s, 'task', 'x')",
            (two_orgs.a.deal_ids[0], two_orgs.a.deal_ids[1]),
        )


def test_a_note_on_its_own_orgs_entity_is_accepted(service, admin, two_orgs: TwoOrgs) -> None:
    with actor(service, two_orgs.a.org_id):
        service.execute(
            "insert into app.notes (entity_type, entity_id, body) values ('contact', %s, 'ok')",
            (two_orgs.a.contact_ids[1],),
        )
    count = admin.execute(
        "select count(*) from app.notes where entity_id = %s", (two_orgs.a.contact_ids[1],)
    ).fetchone()
    assert count == (1,)


def test_authorship_is_the_acting_user(db: Database, admin, two_orgs: TwoOrgs) -> None:
    with db.connect(two_orgs.login_a) as conn:
        comment_id = conn.execute(
            "insert into app.comments (entity_type, entity_id, body, author_id) "
            "values ('deal', %s, 'signed by someone else?', %s) returning id",
            (two_orgs.a.deal_ids[0], two_orgs.a.admin_id),
        ).fetchone()[0]
        conn.commit()
    row = admin.execute("select author_id from app.comments where id = %s", (comment_id,))
    assert row.fetchone() == (two_orgs.a.login_user_id,)


def test_an_entity_id_cannot_change(service, two_orgs: TwoOrgs) -> None:
    with (
        pytest.raises(InvalidParameterError, match="cannot change"),
        actor(service, two_orgs.a.org_id),
    ):
        service.execute(
            "update app.contacts set id = gen_random_uuid() where id = %s",
            (two_orgs.a.contact_ids[0],),
        )


def test_a_placement_must_match_its_submission(service, two_orgs: TwoOrgs) -> None:
    with pytest.raises(psycopg.errors.ForeignKeyViolation), actor(service, two_orgs.a.org_id):
        service.execute(
            "insert into app.jobs (title) values ('Other job');"
            "insert into app.candidates (first_name) values ('Second');"
            "insert into app.submissions (job_id, candidate_id) select j.id, c.id "
            "from app.jobs j, app.candidates c where j.title <> 'Other job' "
            "and c.first_name = 'Second';"
            "insert into app.placements (submission_id, job_id, candidate_id, start_date) "
            "select s.id, (select id from app.jobs where title = 'Other job'), s.candidate_id, "
            "current_date from app.submissions s join app.candidates c on c.id = s.candidate_id "
            "where c.first_name = 'Second'"
        )


def test_a_plain_stage_update_keeps_the_pipeline_books(service, admin, two_orgs: TwoOrgs) -> None:
    org = two_orgs.a
    deal_id = org.deal_ids[1]
    with actor(service, org.org_id, org.rep_ids[0]):
        service.execute(
            "update app.deals set stage_id = %s where id = %s",
            (org.stage_ids["Closed Won"], deal_id),
        )
    deal = admin.execute(
        "select status, probability, closed_at is not null from app.deals where id = %s",
        (deal_id,),
    ).fetchone()
    assert deal == ("won", 100, True)
    last = admin.execute(
        "select to_stage_id, to_probability, changed_by, notes from app.deal_stages_history "
        "where deal_id = %s order by changed_at desc, id limit 1",
        (deal_id,),
    ).fetchone()
    assert last == (org.stage_ids["Closed Won"], 100, org.rep_ids[0], None)


def test_a_bulk_stage_move_writes_one_history_row_per_deal(service, admin, two_orgs) -> None:
    org = two_orgs.a
    with actor(service, org.org_id):
        service.execute(
            "insert into app.deals (name, stage_id) select 'Bulk ' || g, %s "
            "from generate_series(1, 200) g",
            (org.stage_ids["Lead"],),
        )
        service.execute(
            "update app.deals set stage_id = %s where name like 'Bulk %%'",
            (org.stage_ids["Qualified"],),
        )
    row = admin.execute(
        "select count(*), count(distinct deal_id), min(from_probability), min(to_probability) "
        "from app.deal_stages_history h join app.deals d on d.id = h.deal_id "
        "where d.name like 'Bulk %%'"
    ).fetchone()
    assert row == (200, 200, 10, 25)


def test_authorship_cannot_be_rewritten_by_an_update(db: Database, admin, two_orgs) -> None:
    org = two_orgs.a
    with db.connect(two_orgs.login_a) as conn:
        conn.execute(
            "update app.comments set author_id = %s, created_at = '2000-01-01' "
            "where author_id is not distinct from author_id",
            (org.admin_id,),
        )
        conn.commit()
    rows = admin.execute(
        "select count(*) from app.comments where org_id = %s and "
        "(created_at = '2000-01-01' or author_id = %s)",
        (org.org_id, org.admin_id),
    ).fetchone()
    assert rows == (2,)  # the seed's two comments, written by the admin, unchanged


def test_a_submitter_is_the_acting_user(service, admin, two_orgs: TwoOrgs) -> None:
    org = two_orgs.a
    with actor(service, org.org_id, org.rep_ids[0]):
        service.execute("insert into app.candidates (first_name) values ('New')")
        submission_id = service.execute(
            "insert into app.submissions (job_id, candidate_id, submitted_by, updated_by) "
            "select j.id, c.id, %s, %s from app.jobs j, app.candidates c "
            "where c.first_name = 'New' returning id",
            (org.admin_id, org.admin_id),
        ).fetchone()[0]
    row = admin.execute(
        "select submitted_by, updated_by from app.submissions where id = %s", (submission_id,)
    ).fetchone()
    assert row == (org.rep_ids[0], None)


def test_a_reference_whose_target_is_gone_stays_editable(service, admin, two_orgs) -> None:
    org = two_orgs.a
    with actor(service, org.org_id):
        account_id = service.execute(
            "insert into app.accounts (name) values ('Gone soon') returning id"
        ).fetchone()[0]
        service.execute(
            "insert into app.notes (entity_type, entity_id, body) values ('account', %s, 'n')",
            (account_id,),
        )
        service.execute("delete from app.accounts where id = %s", (account_id,))
        service.execute("update app.notes set is_pinned = true where entity_id = %s", (account_id,))
    row = admin.execute("select is_pinned from app.notes where entity_id = %s", (account_id,))
    assert row.fetchone() == (True,)


def test_deal_status_always_follows_its_stage(service, admin, two_orgs: TwoOrgs) -> None:
    org = two_orgs.a
    deal_id = org.deal_ids[1]  # in Proposal
    with actor(service, org.org_id):
        service.execute(
            "update app.deals set status = 'won', closed_at = now(), "
            "stage_entered_at = '2000-01-01', probability = 60 where id = %s",
            (deal_id,),
        )
    row = admin.execute(
        "select status, closed_at, stage_entered_at > '2001-01-01', probability "
        "from app.deals where id = %s",
        (deal_id,),
    ).fetchone()
    assert row == ("open", None, True, 60)  # a hand-set forecast probability is kept


def test_a_deleted_deal_does_not_move(service, two_orgs: TwoOrgs) -> None:
    org = two_orgs.a
    with actor(service, org.org_id):
        service.execute("update app.deals set deleted_at = now() where id = %s", (org.deal_ids[1],))
    with pytest.raises(InvalidParameterError, match="deleted"), actor(service, org.org_id):
        service.execute(
            "update app.deals set stage_id = %s where id = %s",
            (org.stage_ids["Negotiation"], org.deal_ids[1]),
        )


def test_a_session_level_stage_note_is_ignored(service, admin, two_orgs: TwoOrgs) -> None:
    org = two_orgs.a
    service.execute("set intime.deal_stage_notes = 'approved by CFO'")
    with actor(service, org.org_id):
        service.execute(
            "update app.deals set stage_id = %s where id = %s",
            (org.stage_ids["Negotiation"], org.deal_ids[1]),
        )
    notes = admin.execute(
        "select notes from app.deal_stages_history where deal_id = %s "
        "order by changed_at desc limit 1",
        (org.deal_ids[1],),
    ).fetchone()
    assert notes == (None,)
