"""Out-of-office pauses: the return-date parser over phrases in seven languages,
the pause an absence notice puts on its enrollment (by the enrollment's state),
the tick's resume pass on the fake clock (the same next step, sent then and
not skipped), the campaign setting, and how the campaign status changes treat
a paused enrollment."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from intime.errors import InvalidParameterError, PermissionDeniedError
from tests.sql.campaigns.conftest import Campaigns
from tests.support import Mail

UTC = dt.UTC
RECEIVED = "2027-01-05 10:00:00+00"  # a Tuesday

# (text, the return date it gives when received on RECEIVED)
PHRASES = [
    # English
    ("I am back on 12 January", "2027-01-12"),
    ("Returning January 12", "2027-01-12"),
    ("I am out of the office until 2027-01-12", "2027-01-12"),
    ("Out of office until 12/01/2027", "2027-01-12"),
    ("I'll be back in the office on Monday, January 18th", "2027-01-18"),
    ("OUT OF OFFICE UNTIL MONDAY, JANUARY 18TH, 2027", "2027-01-18"),
    ("I will return on Tuesday, Jan. 12.", "2027-01-12"),
    ("Return date: 12 Jan 2027", "2027-01-12"),
    ("I'm away until 12 January, back on 13 January", "2027-01-13"),
    ("until 12/13/2027 (month first: 13 is no month)", "2027-12-13"),
    # German
    ("Ich bin zurück am 12. Januar", "2027-01-12"),
    ("Abwesend bis zum 12.01.2027", "2027-01-12"),
    ("Ich bin bis einschließlich 12. Jan. 2027 nicht im Büro", "2027-01-12"),
    ("Ab dem 13.01. bin ich wieder im Büro", "2027-01-13"),
    ("Am 1. März 2027 bin ich wieder erreichbar", "2027-03-01"),
    ("Rückkehr am 12. Jänner", "2027-01-12"),
    ("Bis 12.1.27 nicht im Haus", "2027-01-12"),
    # French
    ("Je serai de retour le 12 janvier", "2027-01-12"),
    ("Absent jusqu'au 12 janvier", "2027-01-12"),
    ("Absente jusqu\u2019au lundi 18 janvier inclus", "2027-01-18"),  # a curly apostrophe
    ("En congés du 3 au 12 janvier 2027", "2027-01-12"),
    ("De retour le 1er février", "2027-02-01"),
    # Spanish
    ("Estaré fuera hasta el 12 de enero", "2027-01-12"),
    ("De vuelta el 12 de enero de 2027", "2027-01-12"),
    ("Fuera de la oficina hasta el lunes 18 de enero", "2027-01-18"),
    ("De vacaciones del 3 al 12 de ene.", "2027-01-12"),
    # Dutch
    ("Ik ben afwezig tot 12 januari", "2027-01-12"),
    ("Terug op 12 januari", "2027-01-12"),
    ("Afwezig tot en met maandag 18 januari 2027", "2027-01-18"),
    ("Op 12 januari ben ik weer aanwezig", "2027-01-12"),
    ("Met vakantie t/m 12 jan", "2027-01-12"),
    # Italian
    ("Sono fuori ufficio fino al 12 gennaio", "2027-01-12"),
    ("Rientro il 12 gennaio", "2027-01-12"),
    ("In ferie fino all'11 gennaio", "2027-01-11"),
    ("Il mio rientro è previsto per lunedì 18 gennaio", "2027-01-18"),
    ("Rientrerò in ufficio il 12 gen 2027", "2027-01-12"),
    # Portuguese
    ("Estarei ausente até 12 de janeiro", "2027-01-12"),
    ("Retorno em 12 de janeiro", "2027-01-12"),
    ("Estarei de volta na segunda-feira, 18 de janeiro", "2027-01-18"),
    ("Ausente ate 12/01/2027", "2027-01-12"),
    # No date
    ("I am out of the office with limited access to email.", None),
    ("Back in two weeks", None),
    ("I'm out of the office from 3 February", None),  # leaving, not coming back
    ("Ich bin ab 3. Februar im Urlaub", None),
    ("Erreichbar bis 12.30 Uhr", None),  # a time, not a date
    ("I returned 12 days ago", None),
    # Implausible
    ("Back on 12 January 2029", None),  # two years away
    ("Back on 12 January 2026", None),  # a year ago
    ("Back on 2027-02-30", None),  # no such day
    ("Back on 3 January", None),  # passed two days ago: a stale notice, not next year's
]


@pytest.mark.parametrize(("text", "expected"), PHRASES)
def test_the_return_date_of_an_absence_notice(
    tx: psycopg.Connection, text: str, expected: str | None
) -> None:
    row = tx.execute("select app._email_return_date(%s, %s)", (text, RECEIVED)).fetchone()
    assert row is not None
    assert row[0] == (dt.date.fromisoformat(expected) if expected else None)


def test_a_date_without_a_year_is_the_next_one(tx: psycopg.Connection) -> None:
    got = tx.execute(
        "select app._email_return_date('back on 8 January', '2026-12-20 10:00+00'), "
        "app._email_return_date('back on 28 December', '2026-12-20 10:00+00')"
    ).fetchone()
    assert got == (dt.date(2027, 1, 8), dt.date(2026, 12, 28))


def test_an_ambiguous_slash_date_is_the_nearer_plausible_reading(tx: psycopg.Connection) -> None:
    # 01/12: 1 December (day first) or 12 January (month first).
    got = tx.execute(
        "select app._email_return_date('until 01/12', '2027-01-05 10:00+00'), "
        "app._email_return_date('until 01/12', '2026-11-20 10:00+00')"
    ).fetchone()
    assert got == (dt.date(2027, 1, 12), dt.date(2026, 12, 1))


def test_only_the_first_4000_characters_are_read(tx: psycopg.Connection) -> None:
    filler = "until further notice. " * 10_000
    got = tx.execute(
        "select app._email_return_date(%s, %s), app._email_return_date(%s, %s)",
        ("back on 12 January. " + filler, RECEIVED, filler + "back on 12 January", RECEIVED),
    ).fetchone()
    assert got == (dt.date(2027, 1, 12), None)


def test_no_text_gives_no_date(tx: psycopg.Connection) -> None:
    got = tx.execute(
        "select app._email_return_date(null, now()), app._email_return_date('back 12 jan', null)"
    ).fetchone()
    assert got == (None, None)


# The pause -------------------------------------------------------------------

MONDAY_11 = "2026-06-01 11:00:00-04"


class Ooo:
    """One campaign (an email step, then another a day later) with its first step
    sent to each contact; absence notices recorded the way api.record_inbound_email
    records one it classified as out of office."""

    def __init__(
        self, camp: Campaigns, n: int = 2, contact_timezone: str | None = None, **campaign: Any
    ) -> None:
        self.camp = camp
        self.cid = camp.create(name="Trip", **campaign)
        camp.email_step(self.cid)
        camp.email_step(self.cid, delay_days=1, subject="Step two")
        self.contacts = camp.contacts(n, timezone=contact_timezone)
        camp.enroll(self.cid, self.contacts)
        camp.activate(self.cid)
        assert camp.tick()["sent"] == n
        self.at(MONDAY_11)

    def at(self, when: str) -> None:
        """Both connections' clocks (the engine's functions run on the owner's)."""
        self.camp.at(when)
        self.camp.owner.execute("select set_config('app.fake_now', %s, false)", (when,))

    def send_of(self, contact_id: uuid.UUID) -> dict[str, Any]:
        sends = [s for s in self.camp.sends(self.cid) if s["entity_id"] == contact_id]
        return sends[-1]

    def enrollment_of(self, contact_id: uuid.UUID) -> dict[str, Any]:
        [e] = [e for e in self.camp.enrollments(self.cid) if e["contact_id"] == contact_id]
        return e

    def inbound(
        self, contact_id: uuid.UUID, text: str, subject: str = "Out of Office"
    ) -> uuid.UUID:
        send = self.send_of(contact_id)
        row = self.camp.owner.execute(
            "with thread as ("
            " insert into app.email_threads (org_id, root_send_id, subject, message_count,"
            "  last_message_at)"
            " values (%(org)s, %(send)s, 'Hi', 1, app.now())"
            " on conflict (org_id, root_send_id) do update"
            "  set message_count = app.email_threads.message_count + 1"
            " returning id)"
            "insert into app.inbound_emails (org_id, message_id, in_reply_to, from_email,"
            " subject, text_body, reply_text, headers, is_auto_reply, auto_reply_reason,"
            " auto_reply_kind, matched_send_id, match_method, thread_id, provider, received_at)"
            "select %(org)s, %(mid)s, %(irt)s, %(from)s, %(subject)s, %(text)s, %(text)s,"
            " %(headers)s, true, 'x-apple-action: vacation', 'out_of_office', %(send)s,"
            " 'in_reply_to', thread.id, 'smtp', app.now() from thread returning id",
            {
                "org": self.camp.org_id,
                "send": send["id"],
                "mid": f"<{uuid.uuid4().hex}@client.example>",
                "irt": send["message_id"],
                "from": send["to_email"],
                "subject": subject,
                "text": text,
                "headers": Jsonb({"x-apple-action": "VACATION"}),
            },
        ).fetchone()
        assert row is not None
        return row[0]

    def pause(self, contact_id: uuid.UUID, text: str, subject: str = "Out of Office") -> str:
        inbound_id = self.inbound(contact_id, text, subject)
        row = self.camp.owner.execute(
            "select app._campaign_pause_out_of_office(%s, %s, %s)",
            (self.camp.org_id, self.send_of(contact_id)["id"], inbound_id),
        ).fetchone()
        assert row is not None
        return row[0]

    def sent_steps(self, contact_id: uuid.UUID) -> list[int]:
        return [
            s["variables"]["step_number"]
            for s in self.camp.sends(self.cid)
            if s["entity_id"] == contact_id
        ]

    def notes(self) -> list[tuple[Any, ...]]:
        return self.camp.owner.execute(
            "select user_id, title, message, category, entity_id from app.notifications "
            "where category = 'campaign' and template_slug is null order by created_at, seq"
        ).fetchall()


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(UTC)


def test_an_absence_notice_with_a_return_date_pauses_until_the_next_working_day(
    camp: Campaigns,
) -> None:
    run = Ooo(camp)
    away, _ = run.contacts
    # Friday 5 June: the next send day after it is Monday 8 June, 09:00 in New York.
    assert run.pause(away, "I am out of the office until Friday, June 5.") == "paused"
    e = run.enrollment_of(away)
    assert (e["status"], e["stop_reason"]) == ("paused", "out_of_office")
    assert e["resume_at"] == _utc("2026-06-08 09:00:00-04")
    assert e["next_step_at"] == e["resume_at"]
    assert e["current_step"] == 1
    [log] = [x for x in camp.logs(run.cid) if x["status"] == "deferred"]
    assert (log["enrollment_id"], log["step_number"], log["channel"]) == (e["id"], 2, "none")
    assert log["detail"] == (
        "out of office until 2026-06-05: paused, resumes 2026-06-08 09:00 America/New_York"
    )
    assert log["email_send_id"] == run.send_of(away)["id"]
    c = camp.campaign(run.cid)
    assert (c["total_paused"], c["total_active"]) == (1, 1)


def test_the_owner_hears_who_is_out_and_until_when(camp: Campaigns) -> None:
    run = Ooo(camp)
    away, _ = run.contacts
    run.pause(away, "I am out of the office until Friday, June 5.")
    [(user_id, title, message, category, entity_id)] = run.notes()
    assert (user_id, category, entity_id) == (camp.admin_id, "campaign", run.cid)
    assert title == "First1 Last1 is out of office until June 5, 2026"
    assert message == (
        "First1 Last1 answered Trip with an out-of-office reply (back June 5, 2026). Their "
        "sequence is paused and resumes 2026-06-08 09:00 America/New_York with step 2."
    )


def test_end_to_end_nothing_is_sent_while_away_and_the_same_step_goes_out_on_return(
    camp: Campaigns,
) -> None:
    run = Ooo(camp)
    away, present = run.contacts
    run.pause(away, "Thanks for your mail. Back on Friday 5 June.")
    # Tuesday: the other contact's step 2 goes out, nothing for the absent one.
    run.at("2026-06-02 10:00:00-04")
    assert camp.tick()["sent"] == 1
    assert (run.sent_steps(away), run.sent_steps(present)) == ([1], [1, 2])
    # The return day itself and the minute before the resume time: still nothing.
    for when in ("2026-06-05 12:00:00-04", "2026-06-08 08:59:00-04"):
        run.at(when)
        assert camp.tick()["sent"] == 0
        assert run.enrollment_of(away)["status"] == "paused"
    # Monday 8 June 09:00: resumed, and step 2 (not skipped) sent in the same tick.
    run.at("2026-06-08 09:00:00-04")
    got = camp.tick()
    assert (got["sent"], got["skipped"]) == (1, 0)
    assert run.sent_steps(away) == [1, 2]
    e = run.enrollment_of(away)
    assert (e["status"], e["stop_reason"], e["resume_at"]) == ("completed", None, None)
    assert (e["current_step"], e["steps_completed"], e["emails_sent"]) == (2, 2, 2)
    assert run.send_of(away)["subject"] == "Step two"
    c = camp.campaign(run.cid)
    assert (c["total_paused"], c["total_completed"], c["total_sent"]) == (0, 2, 4)


def test_without_a_return_date_it_resumes_after_the_campaigns_setting(camp: Campaigns) -> None:
    run = Ooo(camp, n=1, out_of_office_resume_days=5)
    [away] = run.contacts
    assert run.pause(away, "I am away with limited access to email.") == "paused"
    # Monday 11:00 + 5 days is a Saturday: the next window, Monday 8 June 09:00.
    e = run.enrollment_of(away)
    assert e["resume_at"] == _utc("2026-06-08 09:00:00-04")
    [log] = [x for x in camp.logs(run.cid) if x["status"] == "deferred"]
    assert log["detail"] == (
        "out of office (no return date given): paused, resumes 2026-06-08 09:00 America/New_York"
    )
    [(_, title, message, _, _)] = run.notes()
    assert title == "First1 Last1 is out of office"
    assert "without a return date" in message
    run.at("2026-06-05 16:00:00-04")
    assert camp.tick()["sent"] == 0
    run.at("2026-06-08 09:01:00-04")
    assert camp.tick()["sent"] == 1
    assert run.sent_steps(away) == [1, 2]


def test_the_default_without_a_return_date_is_seven_days(camp: Campaigns) -> None:
    run = Ooo(camp)
    away, _ = run.contacts
    run.pause(away, "Automatic reply: I am currently out of the office.")
    assert run.enrollment_of(away)["resume_at"] == _utc("2026-06-08 11:00:00-04")


def test_the_contacts_zone_sets_the_resume_time_with_use_contact_timezone(
    camp: Campaigns,
) -> None:
    # Sent on Monday 16:00 in Berlin (10:00 in New York), inside both windows.
    run = Ooo(camp, n=1, contact_timezone="Europe/Berlin", use_contact_timezone=True)
    [berlin] = run.contacts
    run.pause(berlin, "Ich bin bis zum 5.6.2026 nicht im Büro.")
    assert run.enrollment_of(berlin)["resume_at"] == _utc("2026-06-08 09:00:00+02")


def test_a_second_absence_notice_extends_the_pause(camp: Campaigns) -> None:
    run = Ooo(camp, n=1)
    [away] = run.contacts
    run.pause(away, "Back on Friday 5 June")
    run.at("2026-06-03 12:00:00-04")
    assert run.pause(away, "Change of plans: I am back on 12 June") == "extended"
    e = run.enrollment_of(away)
    assert (e["status"], e["stop_reason"]) == ("paused", "out_of_office")
    assert e["resume_at"] == e["next_step_at"] == _utc("2026-06-15 09:00:00-04")
    # One that would end the pause sooner changes nothing.
    assert run.pause(away, "Back on 4 June") == (
        "ignored: already out of office until 2026-06-15 09:00"
    )
    assert run.enrollment_of(away)["resume_at"] == _utc("2026-06-15 09:00:00-04")
    assert [n[1] for n in run.notes()] == [
        "First1 Last1 is out of office until June 5, 2026",
        "First1 Last1 is out of office until June 12, 2026",
    ]
    run.at("2026-06-08 10:00:00-04")
    assert camp.tick()["sent"] == 0
    run.at("2026-06-15 09:00:00-04")
    assert camp.tick()["sent"] == 1


def test_a_completed_enrollment_stays_completed(camp: Campaigns) -> None:
    run = Ooo(camp, n=1)
    [contact] = run.contacts
    run.at("2026-06-02 10:00:00-04")
    camp.tick()
    assert run.enrollment_of(contact)["status"] == "completed"
    assert run.pause(contact, "Back on 12 June") == "ignored: the enrollment is completed"
    e = run.enrollment_of(contact)
    assert (e["status"], e["resume_at"]) == ("completed", None)
    assert run.notes() == []


def test_an_enrollment_that_ended_is_left_alone(camp: Campaigns) -> None:
    run = Ooo(camp, n=1)
    [contact] = run.contacts
    eid = run.enrollment_of(contact)["id"]
    camp.call("select api.stop_enrollment(p_enrollment_id => %s, p_reason => 'asked')", (eid,))
    assert run.pause(contact, "Back on 12 June") == "ignored: the enrollment is stopped"
    assert [x for x in camp.logs(run.cid) if x["status"] == "deferred"] == []


def test_a_send_outside_any_campaign_is_ignored(camp: Campaigns) -> None:
    run = Ooo(camp, n=1)
    mail = Mail(camp.conn, camp.org_id, camp.admin_id)
    send_id = mail.queue(to="solo@ex.test", subject="Hello", html="<p>Hi</p>")
    [contact] = run.contacts
    inbound_id = run.inbound(contact, "Back on 12 June")
    row = camp.owner.execute(
        "select app._campaign_pause_out_of_office(%s, %s, %s)",
        (camp.org_id, send_id, inbound_id),
    ).fetchone()
    assert row == ("ignored: not a campaign email",)


def test_an_enrollment_paused_for_errors_stays_so_but_its_next_step_waits(
    camp: Campaigns,
) -> None:
    run = Ooo(camp, n=1)
    [contact] = run.contacts
    eid = run.enrollment_of(contact)["id"]
    camp.owner.execute(
        "update app.campaign_enrollments set status = 'paused', stop_reason = 'errors' "
        "where id = %s",
        (eid,),
    )
    assert run.pause(contact, "Back on Friday 5 June") == "deferred"
    e = run.enrollment_of(contact)
    assert (e["status"], e["stop_reason"], e["resume_at"]) == ("paused", "errors", None)
    assert e["next_step_at"] == _utc("2026-06-08 09:00:00-04")
    [log] = [x for x in camp.logs(run.cid) if x["status"] == "deferred"]
    assert log["detail"] == (
        "out of office until 2026-06-05: still paused (errors), next step not before "
        "2026-06-08 09:00 America/New_York"
    )
    assert run.notes() == []
    # The tick's resume pass never wakes it: a person resumes it.
    run.at("2026-06-09 10:00:00-04")
    assert camp.tick()["processed"] == 0
    assert run.enrollment_of(contact)["status"] == "paused"


def test_an_enrollment_parked_by_a_campaign_pause_becomes_out_of_office(
    camp: Campaigns,
) -> None:
    run = Ooo(camp, n=1)
    [contact] = run.contacts
    camp.call("select api.pause_campaign(p_campaign_id => %s)", (run.cid,))
    assert run.pause(contact, "Back on Friday 5 June") == "paused"
    e = run.enrollment_of(contact)
    assert (e["stop_reason"], e["resume_at"]) == ("out_of_office", _utc("2026-06-08 09:00:00-04"))
    # Resuming the campaign does not wake it before the contact is back.
    assert camp.one("select api.resume_campaign(p_campaign_id => %s)", (run.cid,)) == 0
    run.at("2026-06-02 10:00:00-04")
    assert camp.tick()["sent"] == 0
    assert run.enrollment_of(contact)["stop_reason"] == "out_of_office"
    run.at("2026-06-08 09:00:00-04")
    assert camp.tick()["sent"] == 1


# Campaign status changes -------------------------------------------------------


def test_a_campaign_paused_meanwhile_parks_the_enrollment_when_it_is_due_back(
    camp: Campaigns,
) -> None:
    run = Ooo(camp)
    away, present = run.contacts
    run.pause(away, "Back on Friday 5 June")
    assert camp.one("select api.pause_campaign(p_campaign_id => %s)", (run.cid,)) == 1
    # The pause parks only the active one; the absent one keeps its own pause.
    e = run.enrollment_of(away)
    assert (e["stop_reason"], e["resume_at"]) == ("out_of_office", _utc("2026-06-08 09:00:00-04"))
    assert run.enrollment_of(present)["stop_reason"] == "campaign_paused"
    run.at("2026-06-08 10:00:00-04")
    got = camp.tick()
    assert (got["processed"], got["sent"], got["more_due"]) == (0, 0, False)
    e = run.enrollment_of(away)
    assert (e["status"], e["stop_reason"], e["resume_at"]) == ("paused", "campaign_paused", None)
    assert camp.campaign(run.cid)["total_paused"] == 2
    # api.resume_campaign releases both; the tick sends both their step 2.
    assert camp.one("select api.resume_campaign(p_campaign_id => %s)", (run.cid,)) == 2
    assert camp.tick()["sent"] == 2
    assert (run.sent_steps(away), run.sent_steps(present)) == ([1, 2], [1, 2])


def test_completing_the_campaign_stops_an_absent_contacts_enrollment(camp: Campaigns) -> None:
    run = Ooo(camp, n=1)
    [contact] = run.contacts
    run.pause(contact, "Back on Friday 5 June")
    assert camp.one("select api.complete_campaign(p_campaign_id => %s)", (run.cid,)) == 1
    e = run.enrollment_of(contact)
    assert (e["status"], e["stop_reason"], e["next_step_at"]) == (
        "stopped",
        "campaign_completed",
        None,
    )
    run.at("2026-06-08 10:00:00-04")
    assert camp.tick()["processed"] == 0
    assert run.enrollment_of(contact)["status"] == "stopped"


def test_unenrolling_an_absent_contact_stops_it_for_good(camp: Campaigns) -> None:
    run = Ooo(camp, n=1)
    [contact] = run.contacts
    run.pause(contact, "Back on Friday 5 June")
    eid = run.enrollment_of(contact)["id"]
    assert camp.one("select api.stop_enrollment(p_enrollment_id => %s)", (eid,)) is True
    run.at("2026-06-08 10:00:00-04")
    assert camp.tick()["processed"] == 0
    assert run.enrollment_of(contact)["status"] == "stopped"
    assert run.sent_steps(contact) == [1]


def test_a_human_reply_while_away_stops_the_enrollment(camp: Campaigns) -> None:
    run = Ooo(camp, n=1)
    [contact] = run.contacts
    run.pause(contact, "Back on Friday 5 June")
    send = run.send_of(contact)
    with camp.conn.transaction():
        camp.conn.execute(
            "select api.record_inbound_email(p_message_id => %s, p_from => %s, "
            "p_in_reply_to => %s, p_subject => 'Re: Hi', p_text => 'Call me next week')",
            (f"<{uuid.uuid4().hex}@client.example>", send["to_email"], send["message_id"]),
        )
    e = run.enrollment_of(contact)
    assert (e["status"], e["stop_reason"]) == ("replied", "reply")
    run.at("2026-06-08 10:00:00-04")
    assert camp.tick()["processed"] == 0


def test_the_resume_pass_is_bounded_by_the_batch_size(camp: Campaigns) -> None:
    run = Ooo(camp, n=3)
    for contact in run.contacts:
        run.pause(contact, "Back on Friday 5 June")
    run.at("2026-06-08 09:30:00-04")
    first = camp.tick(batch_size=2)
    assert (first["sent"], first["more_due"]) == (2, True)
    second = camp.tick(batch_size=2)
    assert (second["sent"], second["more_due"]) == (1, False)
    assert all(run.sent_steps(c) == [1, 2] for c in run.contacts)


# The setting -----------------------------------------------------------------


def test_the_setting_is_given_at_creation_and_changed_by_update(camp: Campaigns) -> None:
    cid = camp.create(out_of_office_resume_days=14)
    assert camp.campaign(cid)["out_of_office_resume_days"] == 14
    camp.call(
        "select api.update_campaign(p_campaign_id => %s, p_changes => %s)",
        (cid, Jsonb({"out_of_office_resume_days": 30})),
    )
    assert camp.campaign(cid)["out_of_office_resume_days"] == 30
    assert camp.campaign(camp.create())["out_of_office_resume_days"] == 7


@pytest.mark.parametrize("days", [0, 91, -1])
def test_the_setting_is_1_to_90_days_at_creation(camp: Campaigns, days: int) -> None:
    with pytest.raises(InvalidParameterError, match="out_of_office_resume_days is 1 to 90"):
        camp.create(out_of_office_resume_days=days)
    assert camp.owner.execute("select count(*) from app.campaigns").fetchone() == (0,)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "out_of_office_resume_days is 1 to 90"),
        (91, "out_of_office_resume_days is 1 to 90"),
        (None, "out_of_office_resume_days cannot be null"),
        ("soon", "invalid input syntax for type integer"),
    ],
)
def test_the_setting_is_1_to_90_days_on_update(
    camp: Campaigns, value: object, message: str
) -> None:
    cid = camp.create()
    with pytest.raises(InvalidParameterError, match=message):
        camp.call(
            "select api.update_campaign(p_campaign_id => %s, p_changes => %s)",
            (cid, Jsonb({"out_of_office_resume_days": value})),
        )
    assert camp.campaign(cid)["out_of_office_resume_days"] == 7


def test_a_rep_who_does_not_own_the_campaign_may_not_change_the_setting(
    camp: Campaigns,
) -> None:
    cid = camp.create()
    with pytest.raises(PermissionDeniedError):
        camp.call(
            "select api.update_campaign(p_campaign_id => %s, p_changes => %s)",
            (cid, Jsonb({"out_of_office_resume_days": 30})),
            user=camp.orgs.a.rep_ids[0],
        )
    assert camp.campaign(cid)["out_of_office_resume_days"] == 7


# Through the inbound path ------------------------------------------------------


def test_an_icloud_vacation_reply_through_record_inbound_email_pauses_the_enrollment(
    camp: Campaigns,
) -> None:
    run = Ooo(camp)
    away, _ = run.contacts
    send = run.send_of(away)
    with camp.conn.transaction():
        row = camp.conn.execute(
            "select result, is_auto_reply from api.record_inbound_email("
            "p_message_id => %s, p_from => %s, p_to => %s, p_subject => %s, "
            "p_in_reply_to => %s, p_references => %s, p_text => %s, p_headers => %s)",
            (
                f"<{uuid.uuid4().hex}@icloud.com>",
                send["to_email"],
                [send["reply_to"]],
                "Auto reply: Hi First1",
                send["message_id"],
                [send["message_id"]],
                "I am travelling with limited access to email until Friday, June 5.\n"
                "I will answer when I am back.",
                Jsonb({"x-apple-action": "VACATION"}),
            ),
        ).fetchone()
    assert row == ("recorded", True)
    e = run.enrollment_of(away)
    assert (e["status"], e["stop_reason"], e["replied_at"]) == ("paused", "out_of_office", None)
    assert e["resume_at"] == _utc("2026-06-08 09:00:00-04")
    run.at("2026-06-02 10:00:00-04")
    assert camp.tick()["sent"] == 1  # the other contact's step 2 only
    assert run.sent_steps(away) == [1]
    run.at("2026-06-08 09:00:00-04")
    assert camp.tick()["sent"] == 1
    assert run.sent_steps(away) == [1, 2]
