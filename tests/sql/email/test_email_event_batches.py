"""api.ingest_email_events: a batch of Resend events ends where the same events one by
one end (statuses, counts, first times, bounces, suppressions); duplicates, early
events and malformed batches; two batches never deadlock."""

from __future__ import annotations

import json
import random
import threading
import time
import uuid

import psycopg
import pytest

from intime.db import errors_translated
from intime.errors import InvalidParameterError, ServiceRoleRequiredError
from tests.support import Database, Mail, TwoOrgs, event, recorded_sends

ROUNDS = 12  # of two batches at once: a deadlock, when possible, shows in a few
BATCH = "select api.ingest_email_events(p_provider_event_ids => %s, p_payloads => %s::jsonb[])"
# sent_at is the send's record time (api.record_email_sent), not an event's.
FIELDS = (
    "status",
    "suppression_reason",
    "delivered_at",
    "first_opened_at",
    "open_count",
    "first_clicked_at",
    "click_count",
    "bounced_at",
    "bounce_type",
    "bounce_status",
    "complained_at",
    "failed_at",
    "error",
)
KINDS = (
    "email.sent",
    "email.delivered",
    "email.delivery_delayed",
    "email.opened",
    "email.opened",
    "email.clicked",
    "email.bounced",
    "email.complained",
    "email.failed",
    "email.suppressed",
    "email.scheduled",
)


def ingest_batch(conn: psycopg.Connection, events: list[tuple[str, dict]]) -> list[str]:
    with errors_translated(), conn.transaction():
        row = conn.execute(
            BATCH, ([e for e, _ in events], [json.dumps(p) for _, p in events])
        ).fetchone()
    assert row is not None
    return row[0]


def sent_email(mail: Mail, to: str) -> tuple[uuid.UUID, str]:
    send_id = mail.queue(to=to, subject="Hi", text="x")
    message_id = f"re_{uuid.uuid4().hex}"
    mail.sent(send_id, message_id)
    return send_id, message_id


def random_events(rng: random.Random, sends: int, count: int) -> list[tuple[int, dict]]:
    """(send index, payload with the message id left out): every kind, times out of order,
    bounces of one type per send (hard or soft)."""
    hard = [rng.random() < 0.5 for _ in range(sends)]
    out = []
    for _ in range(count):
        i = rng.randrange(sends)
        kind = rng.choice(KINDS)
        at = rng.choice(["2026-01-01T10:00:00Z", "2026-01-01T09:00:00Z", "2026-01-02T00:00:00Z"])
        extra: dict[str, object] = {}
        if kind == "email.bounced":
            extra["bounce"] = {
                "type": "Permanent" if hard[i] else "Transient",
                "message": rng.choice([None, f"m{rng.randrange(9)}"]),
                "status": rng.choice([None, "5.1.1", "4.2.2", "bad"]),
            }
        if kind == "email.failed":
            extra["failed"] = {"reason": rng.choice([None, f"r{rng.randrange(9)}"])}
        out.append((i, event(kind, "", at, **extra)))
    return out


def with_message(payload: dict, message_id: str) -> dict:
    return {**payload, "data": {**payload["data"], "email_id": message_id}}


@pytest.mark.parametrize("seed", range(6))
def test_a_batch_ends_where_the_same_events_one_by_one_end(mail: Mail, admin, seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 - a repeatable sequence, not security
    # Three sends to one address (the third soft bounce suppresses) and one to another,
    # once for the events one by one and once for the batch.
    one = [sent_email(mail, f"s{seed}.{min(i, 3)}@one.example") for i in range(4)]
    batch = [sent_email(mail, f"s{seed}.{min(i, 3)}@batch.example") for i in range(4)]
    events = random_events(rng, 4, 40)

    singles = [
        mail.ingest(f"one-{seed}-{n}", with_message(p, one[i][1]))
        for n, (i, p) in enumerate(events)
    ]
    together = ingest_batch(
        mail.conn,
        [(f"batch-{seed}-{n}", with_message(p, batch[i][1])) for n, (i, p) in enumerate(events)],
    )

    assert together == singles
    for (a, _), (b, _) in zip(one, batch, strict=True):
        row_a, row_b = mail.send_row(a), mail.send_row(b)
        assert {f: row_a[f] for f in FIELDS} == {f: row_b[f] for f in FIELDS}
    kept = admin.execute(
        "select split_part(e.provider_event_id, '-', 1), "
        "array_agg(e.type || ' ' || e.occurred_at order by split_part(e.provider_event_id, "
        "'-', 3)::integer) from app.email_events e where e.provider_event_id like any(%s) "
        "group by 1 order by 1",
        ([f"one-{seed}-%", f"batch-{seed}-%"],),
    ).fetchall()
    assert len(kept) == 2
    assert kept[0][1] == kept[1][1]
    suppressed = admin.execute(
        "select split_part(split_part(email, '@', 2), '.', 1), "
        "array_agg(split_part(email, '@', 1) || ' ' || reason order by email, reason) "
        "from app.suppressions where email like %s group by 1 order by 1",
        (f"s{seed}.%",),
    ).fetchall()
    assert [reasons for _, reasons in suppressed[:1]] == [
        reasons for _, reasons in suppressed[1:]
    ] or suppressed == []


def test_an_event_id_twice_in_one_batch_is_a_duplicate_after_its_first(mail: Mail) -> None:
    send_id, message_id = sent_email(mail, "twice@example.com")
    opened = event("email.opened", message_id)
    assert ingest_batch(mail.conn, [("e1", opened), ("e1", opened), ("e2", opened)]) == [
        "applied",
        "duplicate",
        "applied",
    ]
    assert mail.send_row(send_id)["open_count"] == 2


def test_an_event_seen_in_an_earlier_call_is_a_duplicate(mail: Mail) -> None:
    _, message_id = sent_email(mail, "again@example.com")
    opened = event("email.opened", message_id)
    mail.ingest("seen", opened)
    assert ingest_batch(mail.conn, [("seen", opened), ("new", opened)]) == [
        "duplicate",
        "applied",
    ]


def test_a_batch_parks_events_of_unrecorded_sends_and_ignores_others(
    mail: Mail, resend_events: list[dict]
) -> None:
    send_id, message_id = sent_email(mail, "known@example.com")
    later = mail.queue(to="later@example.com", subject="Hi", text="x")
    received = next(e for e in resend_events if e["type"] == "email.received")["payload"]
    outcomes = ingest_batch(
        mail.conn,
        [
            ("p1", event("email.delivered", "re_later")),
            ("a1", event("email.delivered", message_id)),
            ("i1", received),
            ("p2", event("email.opened", "re_later")),
        ],
    )
    assert outcomes == ["pending", "applied", "ignored", "pending"]
    assert mail.sent(later, "re_later") == "opened"
    assert mail.send_row(later)["open_count"] == 1
    assert mail.send_row(send_id)["status"] == "delivered"


def test_a_malformed_event_refuses_the_whole_batch_and_writes_nothing(mail: Mail, admin) -> None:
    _, message_id = sent_email(mail, "whole@example.com")
    with pytest.raises(InvalidParameterError, match="event 2: an event is a JSON object"):
        ingest_batch(
            mail.conn,
            [("w1", event("email.opened", message_id)), ("w2", {"type": "email.opened"})],
        )
    assert admin.execute(
        "select count(*) from app.webhook_receipts where event_id like 'w_'"
    ).fetchone() == (0,)


@pytest.mark.parametrize(
    ("ids", "payloads"),
    [
        (["a", "b"], ["{}"]),
        ([], []),
        ([f"x{i}" for i in range(1001)], ['{"type": "email.sent", "data": {}}'] * 1001),
        ([None], ['{"type": "email.sent", "data": {}}']),
    ],
    ids=["lengths differ", "empty", "over 1000", "null id"],
)
def test_a_batch_of_the_wrong_shape_is_refused(mail: Mail, ids, payloads) -> None:
    with pytest.raises(InvalidParameterError), errors_translated(), mail.conn.transaction():
        mail.conn.execute(BATCH, (ids, payloads))


def test_a_batch_is_for_the_service_role_only(db: Database, two_orgs: TwoOrgs) -> None:
    with (
        db.connect(two_orgs.login_a) as conn,
        pytest.raises(ServiceRoleRequiredError),
        errors_translated(),
    ):
        conn.execute(BATCH, (["x"], ['{"type": "email.opened", "data": {}}']))


def at_once(db: Database, *batches: list[tuple[str, dict]]) -> list[str | None]:
    """Run the batches at the same moment, each on a service connection of its own; the
    name of what each raised (None when it went through)."""
    barrier = threading.Barrier(len(batches))
    raised: list[str | None] = [None] * len(batches)

    def run(k: int, events: list[tuple[str, dict]]) -> None:
        with db.connect("intime_service", autocommit=True) as conn:
            barrier.wait()
            try:
                conn.execute(BATCH, ([e for e, _ in events], [json.dumps(p) for _, p in events]))
            except psycopg.Error as exc:
                raised[k] = type(exc).__name__

    threads = [threading.Thread(target=run, args=(k, b)) for k, b in enumerate(batches)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return raised


def test_batches_with_opens_on_the_same_campaigns_do_not_deadlock(
    db: Database, two_orgs: TwoOrgs
) -> None:
    """Each send's campaign trigger locks its enrollment, then the campaign: two batches
    at once, with opens of two campaigns' emails in opposite orders."""
    org, owner, n = two_orgs.a.org_id, two_orgs.a.admin_id, 30
    sends = recorded_sends(db, two_orgs, [f"camp{i}@example.com" for i in range(4 * n)])
    with db.connect(autocommit=True) as admin:
        campaigns = [
            row[0]
            for row in admin.execute(
                "insert into app.campaigns (org_id, name, owner_id, status) "
                "values (%s, 'c1', %s, 'active'), (%s, 'c2', %s, 'active') returning id",
                (org, owner, org, owner),
            )
        ]
        for i, (send_id, _) in enumerate(sends):
            contact = admin.execute(
                "insert into app.contacts (org_id, first_name, email) "
                "values (%s, 'C', %s) returning id",
                (org, f"c{i}@example.com"),
            ).fetchone()[0]
            admin.execute(
                "with e as (insert into app.campaign_enrollments (org_id, campaign_id, "
                "contact_id, next_step_at) values (%s, %s, %s, now() + interval '10 days') "
                "returning id) update app.email_sends set enrollment_id = (select id from e) "
                "where id = %s",
                (org, campaigns[i % 2], contact, send_id),
            )
    rounds = [
        at_once(
            db,
            [(f"a{r}-{i}", event("email.opened", m)) for i, (_, m) in enumerate(sends[: 2 * n])],
            [
                (f"b{r}-{i}", event("email.opened", m))
                for i, (_, m) in enumerate(reversed(sends[2 * n :]))
            ],
        )
        for r in range(ROUNDS)
    ]
    assert rounds == [[None, None]] * ROUNDS
    with db.connect() as admin:
        opened = admin.execute(
            "select sum(total_opened) from app.campaigns where id = any(%s)", (campaigns,)
        ).fetchone()
    assert opened == (4 * n,)  # each enrollment's first open counts once


def test_batches_suppressing_the_same_addresses_do_not_deadlock(
    db: Database, two_orgs: TwoOrgs
) -> None:
    """Complaints about the same addresses (different sends) in opposite orders: each
    batch inserts its suppressions in key order. Under load one batch may wait past the
    function's 2 s lock timeout for the other (LockNotAvailable, seen once in CI): the
    web app then tries its events again (web/ingest.py), and the ingestion is idempotent,
    so the test tries that batch again. A deadlock is not accepted."""
    addresses = [f"same{i}@example.com" for i in range(150)]
    first = recorded_sends(db, two_orgs, addresses)
    second = recorded_sends(db, two_orgs, list(reversed(addresses)))
    batches = [
        [(f"x{i}", event("email.complained", m)) for i, (_, m) in enumerate(first)],
        [(f"y{i}", event("email.complained", m)) for i, (_, m) in enumerate(second)],
    ]
    outcome = at_once(db, *batches)
    assert set(outcome) <= {None, "LockNotAvailable"}
    retried = [at_once(db, b) for b, o in zip(batches, outcome, strict=True) if o is not None]
    assert retried in ([], [[None]])
    with db.connect() as admin:
        kept = admin.execute(
            "select count(*) from app.suppressions where email like 'same%%'"
        ).fetchone()
    assert kept == (300,)  # complaint and unsubscribe, once per address


def test_an_event_with_an_unreadable_time_is_dated_when_it_arrived(mail: Mail, admin) -> None:
    send_id, message_id = sent_email(mail, "when@example.com")
    arrived = admin.execute("select now()").fetchone()[0]
    assert ingest_batch(
        mail.conn,
        [
            ("t1", event("email.opened", message_id, "soon")),
            ("t2", event("email.clicked", message_id, "2026-02-30T10:00:00Z")),
        ],
    ) == ["applied", "applied"]
    row = mail.send_row(send_id)
    assert row["status"] == "clicked"
    occurred = admin.execute(
        "select array_agg(occurred_at >= %s order by provider_event_id) from app.email_events "
        "where provider_event_id in ('t1', 't2')",
        (arrived,),
    ).fetchone()
    assert occurred == ([True, True],)


def test_hard_bounces_of_contacts_in_two_campaigns_do_not_deadlock(
    db: Database, two_orgs: TwoOrgs
) -> None:
    """A suppression stops the address's enrollments in every campaign: each batch locks
    those and their campaigns first, in key order (a session holding two of them lines the
    batches up, as a tick or a pause would)."""
    org, owner = two_orgs.a.org_id, two_orgs.a.admin_id
    (s1, m1), (s2, m2) = recorded_sends(db, two_orgs, ["x@example.com", "y@example.com"])
    with db.connect(autocommit=True) as admin:
        c1, c2 = (
            admin.execute(
                "insert into app.campaigns (org_id, name, owner_id, status) "
                "values (%s, %s, %s, 'active') returning id",
                (org, name, owner),
            ).fetchone()[0]
            for name in ("c1", "c2")
        )

        def enroll(campaign: uuid.UUID, contact: uuid.UUID) -> uuid.UUID:
            return admin.execute(
                "insert into app.campaign_enrollments (org_id, campaign_id, contact_id, "
                "next_step_at) values (%s, %s, %s, now() + interval '10 days') returning id",
                (org, campaign, contact),
            ).fetchone()[0]

        x, y = (
            admin.execute(
                "insert into app.contacts (org_id, first_name, email) values (%s, 'C', %s) "
                "returning id",
                (org, email),
            ).fetchone()[0]
            for email in ("x@example.com", "y@example.com")
        )
        e1, e2, e3, e4 = enroll(c1, x), enroll(c2, x), enroll(c2, y), enroll(c1, y)
        for enrollment, send in ((e1, s1), (e3, s2)):
            admin.execute(
                "update app.email_sends set enrollment_id = %s where id = %s", (enrollment, send)
            )
    hard = {"bounce": {"type": "Permanent", "message": "no such user"}}
    with db.connect() as blocker:
        blocker.execute(
            "select from app.campaign_enrollments where id in (%s, %s) for update", (e2, e4)
        )
        outcome: list[list[str | None]] = []
        thread = threading.Thread(
            target=lambda: outcome.append(
                at_once(
                    db,
                    [("A1", event("email.bounced", m1, **hard))],
                    [("B1", event("email.bounced", m2, **hard))],
                )
            )
        )
        thread.start()
        time.sleep(0.7)
        blocker.rollback()
        thread.join(30)
    assert outcome == [[None, None]]
    with db.connect() as admin:
        stopped = admin.execute(
            "select array_agg(status order by status) from app.campaign_enrollments "
            "where id = any(%s)",
            ([e1, e2, e3, e4],),
        ).fetchone()
    assert stopped == (["bounced"] * 4,)


def test_an_event_the_campaign_ignores_does_not_wait_for_the_campaign(
    db: Database, two_orgs: TwoOrgs
) -> None:
    """Only opens, clicks, bounces and complaints reach the campaign: a delivery of a
    campaign email is applied while the campaign is busy (enrolling, ticking)."""
    org, owner = two_orgs.a.org_id, two_orgs.a.admin_id
    ((send_id, message_id),) = recorded_sends(db, two_orgs, ["busy@example.com"])
    with db.connect(autocommit=True) as admin:
        campaign = admin.execute(
            "insert into app.campaigns (org_id, name, owner_id, status) "
            "values (%s, 'busy', %s, 'active') returning id",
            (org, owner),
        ).fetchone()[0]
        contact = admin.execute(
            "insert into app.contacts (org_id, first_name, email) "
            "values (%s, 'C', 'busy@example.com') returning id",
            (org,),
        ).fetchone()[0]
        admin.execute(
            "with e as (insert into app.campaign_enrollments (org_id, campaign_id, contact_id, "
            "next_step_at) values (%s, %s, %s, now() + interval '10 days') returning id) "
            "update app.email_sends set enrollment_id = (select id from e) where id = %s",
            (org, campaign, contact, send_id),
        )
    with db.connect() as holder, db.connect("intime_service", autocommit=True) as conn:
        holder.execute("select from app.campaigns where id = %s for update", (campaign,))
        conn.execute("set statement_timeout = '1s'")
        row = conn.execute(
            BATCH, (["d1"], [json.dumps(event("email.delivered", message_id))])
        ).fetchone()
        holder.rollback()
    assert row == (["applied"],)
