"""A/B tests of campaign steps: the deterministic arm of an enrollment, the
normal CDF and the two-proportion z-test against independent Python
references, the evaluation (winner, inconclusive, insufficient sample,
Bonferroni, the metric window, click/open metrics, auto-select off, an
existing winner, concurrent evaluations), the manual choice and the
scheduled job. Data is built set-based as the superuser; api calls run as
the service acting for a user, with the application clock fixed. The
assignment and statistics tests commit nothing and run in the rolled-back ``tx``."""

from __future__ import annotations

import dataclasses
import hashlib
import math
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from fractions import Fraction
from statistics import NormalDist
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from intime.db import actor, errors_translated
from intime.errors import (
    InvalidParameterError,
    NotFoundError,
    PermissionDeniedError,
    ServiceRoleRequiredError,
)
from tests.support import Database, TwoOrgs

NOW = "2026-03-10 12:00:00+00"
AT = datetime(2026, 3, 10, 12, tzinfo=UTC)
CLOSED = 5  # days before NOW: past the default 3-day metric window
RECENT = 1  # days before NOW: still inside it
OUTCOME_COLUMNS = ("replied_at", "first_clicked_at", "first_opened_at")

SENDS = """
with g as (
    select
        i, gen_random_uuid() as contact_id, gen_random_uuid() as enrollment_id,
        gen_random_uuid() as send_id,
        %(now)s::timestamptz - make_interval(days => %(days)s) as sent_at
    from generate_series(1, %(n)s) as i
),
contacts as (
    insert into app.contacts (org_id, id, first_name, last_name, email)
    select %(org)s, g.contact_id, 'Test', 'Contact ' || g.i, 'c-' || g.send_id || '@example.com'
    from g
),
enrollments as (
    insert into app.campaign_enrollments (
        org_id, id, campaign_id, contact_id, status, current_step, steps_completed, ab_variant,
        emails_sent, enrolled_at, completed_at
    )
    select
        %(org)s, g.enrollment_id, %(campaign)s, g.contact_id, 'completed', %(step)s, %(step)s,
        %(variant)s, 1, g.sent_at - interval '1 day', g.sent_at
    from g
),
sends as (
    insert into app.email_sends (
        org_id, id, to_email, from_email, reply_to, subject, html_body, category,
        enrollment_id, status, message_id, reply_token, unsubscribe_token, queued_at, sent_at,
        replied_at, first_clicked_at, first_opened_at
    )
    select
        %(org)s, g.send_id, 'c-' || g.send_id || '@example.com', 'sales@example.com',
        'reply@example.com', 'Hello', '<p>Hello</p>', 'campaign', g.enrollment_id, 'delivered',
        '<' || g.send_id || '@test.example>', 'r-' || g.send_id, 'u-' || g.send_id,
        g.sent_at, g.sent_at,
        case when g.i between %(replied_lo)s and %(replied_hi)s
            then g.sent_at + interval '2 hours' end,
        case when g.i between %(first_clicked_at_lo)s and %(first_clicked_at_hi)s
            then g.sent_at + interval '1 hour' end,
        case when g.i between %(first_opened_at_lo)s and %(first_opened_at_hi)s
            then g.sent_at + interval '30 minutes' end
    from g
)
insert into app.campaign_sequence_logs (
    org_id, campaign_id, enrollment_id, step_number, channel, status, ab_variant,
    email_send_id, scheduled_at, sent_at
)
select
    %(org)s, %(campaign)s, g.enrollment_id, %(step)s, 'email', 'sent', %(variant)s, g.send_id,
    g.sent_at, g.sent_at
from g
"""


def variants(*ids: str, weights: list[Any] | None = None) -> list[dict[str, Any]]:
    return [
        {
            "id": v,
            "subject": f"Subject {v}",
            "body_html": f"<p>Body {v}</p>",
            "body_text": f"Body {v}",
            "weight": weights[i] if weights else 1,
        }
        for i, v in enumerate(ids)
    ]


@dataclasses.dataclass
class Ab:
    admin: psycopg.Connection  # superuser: builds data, reads past RLS
    conn: psycopg.Connection  # intime_service: api calls
    orgs: TwoOrgs

    def campaign(
        self,
        *,
        org_id: uuid.UUID | None = None,
        owner_id: uuid.UUID | None = None,
        name: str = "Spring push",
        status: str = "active",
        metric: str = "reply",
        min_sample: int = 100,
        alpha: float = 0.05,
        auto_select: bool = True,
        window: str = "3 days",
    ) -> uuid.UUID:
        org_id = org_id or self.orgs.a.org_id
        if owner_id is None:
            owner_id = (
                self.orgs.a.admin_id if org_id == self.orgs.a.org_id else self.orgs.b.admin_id
            )
        row = self.admin.execute(
            "insert into app.campaigns (org_id, name, status, owner_id, ab_metric, "
            "ab_min_sample_per_variant, ab_alpha, ab_auto_select, ab_metric_window, "
            "activated_at) values (%s, %s, %s, %s, %s, %s, %s, %s, %s::interval, "
            "%s::timestamptz - interval '30 days') returning id",
            (org_id, name, status, owner_id, metric, min_sample, alpha, auto_select, window, NOW),
        ).fetchone()
        assert row is not None
        return row[0]

    def org_of(self, campaign_id: uuid.UUID) -> uuid.UUID:
        row = self.admin.execute(
            "select org_id from app.campaigns where id = %s", (campaign_id,)
        ).fetchone()
        assert row is not None
        return row[0]

    def step(
        self,
        campaign_id: uuid.UUID,
        arms: list[dict[str, Any]] | None,
        step_number: int = 1,
    ) -> None:
        self.admin.execute(
            "insert into app.campaign_sequences (org_id, campaign_id, step_number, channel, "
            "subject, body_html, ab_variants) values (%s, %s, %s, 'email', 'Hi', '<p>Hi</p>', %s)",
            (
                self.org_of(campaign_id),
                campaign_id,
                step_number,
                Jsonb(arms) if arms is not None else None,
            ),
        )

    def sends(
        self,
        campaign_id: uuid.UUID,
        variant: str,
        n: int,
        *,
        step: int = 1,
        days_ago: int = CLOSED,
        replied: int = 0,
        clicked: tuple[int, int] | None = None,
        opened: tuple[int, int] | None = None,
    ) -> None:
        """n sent emails of the step for the arm; rows 1..replied replied, and
        the rows in the clicked / opened ranges (inclusive) clicked / opened."""
        ranges = {
            "replied": (1, replied) if replied else None,
            "first_clicked_at": clicked,
            "first_opened_at": opened,
        }
        params: dict[str, Any] = {
            "org": self.org_of(campaign_id),
            "campaign": campaign_id,
            "variant": variant,
            "n": n,
            "step": step,
            "days": days_ago,
            "now": NOW,
        }
        for name, span in ranges.items():
            params[f"{name}_lo"], params[f"{name}_hi"] = span or (0, -1)
        self.admin.execute(SENDS, params)

    def evaluate(
        self,
        campaign_id: uuid.UUID,
        step: int = 1,
        *,
        user: uuid.UUID | None = None,
        org_id: uuid.UUID | None = None,
    ) -> dict[str, Any]:
        with actor(self.conn, org_id or self.orgs.a.org_id, user or self.orgs.a.admin_id):
            row = self.conn.execute(
                "select api.evaluate_ab_test(p_campaign_id => %s, p_step_number => %s)",
                (campaign_id, step),
            ).fetchone()
        assert row is not None
        return row[0]

    def select(
        self,
        campaign_id: uuid.UUID,
        variant: str,
        step: int | None = None,
        *,
        user: uuid.UUID | None = None,
        org_id: uuid.UUID | None = None,
    ) -> None:
        with actor(self.conn, org_id or self.orgs.a.org_id, user or self.orgs.a.admin_id):
            self.conn.execute(
                "select api.select_ab_winner(p_campaign_id => %s, p_variant => %s, "
                "p_step_number => %s)",
                (campaign_id, variant, step),
            )

    def sweep(self) -> int:
        with errors_translated(), self.conn.transaction():
            row = self.conn.execute("select api.evaluate_ab_tests()").fetchone()
        assert row is not None
        return row[0]

    def row(self, campaign_id: uuid.UUID) -> dict[str, Any]:
        cur = self.admin.cursor(row_factory=dict_row)
        row = cur.execute("select * from app.campaigns where id = %s", (campaign_id,)).fetchone()
        assert row is not None
        return row

    def decisions(self, campaign_id: uuid.UUID) -> list[dict[str, Any]]:
        cur = self.admin.cursor(row_factory=dict_row)
        return cur.execute(
            "select * from app.campaign_ab_decisions where campaign_id = %s "
            "order by created_at, step_number",
            (campaign_id,),
        ).fetchall()

    def notifications(self, user_id: uuid.UUID) -> list[dict[str, Any]]:
        cur = self.admin.cursor(row_factory=dict_row)
        return cur.execute(
            "select * from app.notifications where user_id = %s "
            "and template_slug = 'campaign_ab_winner' order by seq",
            (user_id,),
        ).fetchall()

    def scalar(self, query: str, params: Any = None) -> Any:
        row = self.admin.execute(query, params).fetchone()
        assert row is not None
        return row[0]


def set_clock(conn: psycopg.Connection) -> None:
    conn.execute("select set_config('app.fake_now', %s, false)", (NOW,))


@pytest.fixture
def ab(admin: psycopg.Connection, service: psycopg.Connection, two_orgs: TwoOrgs) -> Ab:
    set_clock(service)
    return Ab(admin, service, two_orgs)


def arms_by_variant(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["variant"]: a for a in result["arms"]}


def reference_z(sa: int, na: int, sb: int, nb: int) -> tuple[float, float]:
    """The pooled two-proportion z-test, written independently of the SQL."""
    pooled = (sa + sb) / (na + nb)
    se = math.sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb))
    if se == 0:
        return 0.0, 1.0
    z = (sa / na - sb / nb) / se
    return z, 2 * NormalDist().cdf(-abs(z))


def reference_pick(enrollment_id: uuid.UUID, weights: list[tuple[str, int]]) -> str:
    u = Fraction(
        int(hashlib.md5(str(enrollment_id).encode(), usedforsecurity=False).hexdigest()[:8], 16),
        2**32,
    )
    total = sum(w for _, w in weights)
    cumulative = 0
    for variant, weight in weights:
        cumulative += weight
        if Fraction(cumulative, total) > u:
            return variant
    raise AssertionError("no variant")


# Assignment ------------------------------------------------------------------


def pick(tx: psycopg.Connection, ids: list[uuid.UUID], arms: Any) -> list[str | None]:
    rows = tx.execute(
        "select app._campaign_ab_pick_variant(e.id, %s) "
        "from unnest(%s::uuid[]) with ordinality as e (id, i) order by e.i",
        (Jsonb(arms) if arms is not None else None, ids),
    ).fetchall()
    return [r[0] for r in rows]


def test_the_same_enrollment_always_gets_the_same_arm(tx) -> None:
    ids = [uuid.uuid4() for _ in range(500)]
    arms = variants("A", "B", "C", weights=[50, 30, 20])
    first = pick(tx, ids, arms)
    assert pick(tx, ids, arms) == first
    assert pick(tx, list(reversed(ids)), arms) == list(reversed(first))
    assert first == [reference_pick(i, [("A", 50), ("B", 30), ("C", 20)]) for i in ids]


def test_arms_follow_their_weights_within_three_points(tx) -> None:
    ids = [uuid.uuid4() for _ in range(10_000)]
    counts = Counter(pick(tx, ids, variants("A", "B", "C", weights=[50, 30, 20])))
    assert set(counts) == {"A", "B", "C"}
    for variant, weight in (("A", 0.50), ("B", 0.30), ("C", 0.20)):
        assert abs(counts[variant] / len(ids) - weight) <= 0.03, counts


def test_weights_are_walked_in_array_order(tx) -> None:
    """u below the first share picks the first variant, whichever it is."""
    ids = [uuid.uuid4() for _ in range(2_000)]
    forward = pick(tx, ids, variants("A", "B", weights=[1, 3]))
    backward = pick(tx, ids, variants("B", "A", weights=[3, 1]))
    assert forward == [reference_pick(i, [("A", 1), ("B", 3)]) for i in ids]
    assert backward == [reference_pick(i, [("B", 3), ("A", 1)]) for i in ids]
    # The same weights in another order cut [0, 1) elsewhere: some ids move.
    assert forward != backward
    assert 0.2 < forward.count("A") / len(ids) < 0.3
    assert 0.2 < backward.count("A") / len(ids) < 0.3


def test_a_single_variant_always_wins_and_no_variants_pick_none(tx) -> None:
    ids = [uuid.uuid4() for _ in range(200)]
    assert set(pick(tx, ids, variants("Only", weights=[7]))) == {"Only"}
    assert set(pick(tx, ids, [])) == {None}
    assert set(pick(tx, ids, None)) == {None}
    # A variant that cannot be chosen (zero weight) is passed over.
    assert set(pick(tx, ids, variants("Z", "Y", weights=[0, 2]))) == {"Y"}


# Statistics ------------------------------------------------------------------


def test_normal_cdf_matches_python_from_minus_8_to_8(tx) -> None:
    xs = [i / 100 for i in range(-800, 801)]
    rows = tx.execute(
        "select app._campaign_normal_cdf(x) from unnest(%s::float8[]) with ordinality as t (x, i) "
        "order by t.i",
        (xs,),
    ).fetchall()
    got = [r[0] for r in rows]
    nd = NormalDist()
    assert max(abs(g - nd.cdf(x)) for g, x in zip(got, xs, strict=True)) < 1e-9
    # Against erfc (no cancellation in the lower tail): near machine precision.
    exact = [0.5 * math.erfc(-x / math.sqrt(2)) for x in xs]
    assert max(abs(g - e) for g, e in zip(got, exact, strict=True)) < 1e-15
    assert max(abs(g - e) / e for g, e, x in zip(got, exact, xs, strict=True) if x <= 0) < 1e-13


def test_normal_cdf_tails_neither_underflow_nor_lose_precision(tx) -> None:
    xs = [-37.6, -37.5, -30.0, -20.0, -10.0, 10.0, 37.6]
    rows = tx.execute(
        "select app._campaign_normal_cdf(x) from unnest(%s::float8[]) with ordinality as t (x, i) "
        "order by t.i",
        (xs,),
    ).fetchall()
    got = dict(zip(xs, (r[0] for r in rows), strict=True))
    assert got[-37.6] == 0.0
    assert got[10.0] == 1.0
    assert got[37.6] == 1.0
    for x in (-37.5, -30.0, -20.0, -10.0):
        exact = 0.5 * math.erfc(-x / math.sqrt(2))
        assert got[x] == pytest.approx(exact, rel=1e-12)


@pytest.mark.parametrize(
    ("sa", "na", "sb", "nb"),
    [
        (40, 400, 100, 400),
        (100, 400, 40, 400),
        (20, 200, 22, 200),
        (66, 500, 45, 500),
        (3, 17, 9, 23),
        (500, 1000, 1, 1000),
    ],
)
def test_two_proportion_z_matches_a_python_reference(tx, sa, na, sb, nb) -> None:
    z, p = tx.execute(
        "select z, p_value from app._campaign_two_proportion_z(%s, %s, %s, %s)", (sa, na, sb, nb)
    ).fetchone()
    ref_z, ref_p = reference_z(sa, na, sb, nb)
    assert z == pytest.approx(ref_z, rel=1e-12)
    assert p == pytest.approx(ref_p, rel=1e-9, abs=1e-15)


def test_two_proportion_z_without_spread_is_zero_with_p_one(tx) -> None:
    assert tx.execute("select * from app._campaign_two_proportion_z(0, 50, 0, 80)").fetchone() == (
        0.0,
        1.0,
    )
    assert tx.execute(
        "select * from app._campaign_two_proportion_z(50, 50, 80, 80)"
    ).fetchone() == (
        0.0,
        1.0,
    )


# Evaluation ------------------------------------------------------------------


def test_a_clear_difference_selects_the_winner_records_it_and_tells_the_owner(ab: Ab) -> None:
    c = ab.campaign()
    ab.step(c, variants("A", "B"))
    ab.sends(c, "A", 400, replied=40)
    ab.sends(c, "B", 400, replied=100)

    result = ab.evaluate(c)

    ref_z, ref_p = reference_z(100, 400, 40, 400)
    arms = arms_by_variant(result)
    assert result["outcome"] == "winner"
    assert result["winner_variant"] == result["best_variant"] == "B"
    assert result["metric"] == "reply"
    assert result["step_number"] == 1
    assert result["already_selected"] is False
    assert result["notified"] is True
    assert (arms["A"]["n"], arms["A"]["successes"], arms["A"]["rate"]) == (400, 40, 0.1)
    assert (arms["B"]["n"], arms["B"]["successes"], arms["B"]["rate"]) == (400, 100, 0.25)
    assert arms["A"]["z"] == pytest.approx(ref_z)
    assert arms["A"]["p_value"] == pytest.approx(ref_p)
    assert arms["A"]["significant"] is True
    assert arms["B"]["z"] is None

    row = ab.row(c)
    assert (row["ab_winner_variant"], row["ab_winner_step"]) == ("B", 1)
    assert row["ab_winner_selected_by"] is None
    assert row["ab_winner_selected_at"] == AT
    assert row["ab_winner_stats"]["arms"] == result["arms"]
    assert row["ab_winner_stats"]["decision_id"] == result["decision_id"]

    [decision] = ab.decisions(c)
    assert str(decision["id"]) == result["decision_id"]
    assert (decision["outcome"], decision["winner_variant"], decision["best_variant"]) == (
        "winner",
        "B",
        "B",
    )
    assert decision["arms"] == result["arms"]
    assert decision["alpha_corrected"] == decision["alpha"]  # two arms: one comparison
    assert decision["decided_by"] == ab.orgs.a.admin_id

    [note] = ab.notifications(ab.orgs.a.admin_id)
    assert note["title"] == "A/B winner for Spring push: B"
    assert "25.0% vs 10.0%" in note["message"]
    assert "reply rate" in note["message"]
    assert f"p = {ref_p:.1e})" in note["message"]
    assert (note["entity_type"], note["entity_id"]) == ("campaign", c)


def test_a_small_difference_is_inconclusive_and_changes_nothing(ab: Ab) -> None:
    c = ab.campaign()
    ab.step(c, variants("A", "B"))
    ab.sends(c, "A", 200, replied=20)
    ab.sends(c, "B", 200, replied=22)
    before = ab.row(c)

    result = ab.evaluate(c)

    assert result["outcome"] == "inconclusive"
    assert result["best_variant"] == "B"
    assert result["winner_variant"] is None
    assert arms_by_variant(result)["A"]["significant"] is False
    assert ab.row(c) == before
    [decision] = ab.decisions(c)
    assert (decision["outcome"], decision["winner_variant"]) == ("inconclusive", None)
    assert ab.notifications(ab.orgs.a.admin_id) == []


def test_an_arm_below_the_minimum_sample_gives_insufficient_sample(ab: Ab) -> None:
    c = ab.campaign(min_sample=100)
    ab.step(c, variants("A", "B", "C"))
    ab.sends(c, "A", 150, replied=10)
    ab.sends(c, "B", 150, replied=80)
    # C has no sends at all: it is still an arm, with n 0.

    result = ab.evaluate(c)

    assert result["outcome"] == "insufficient_sample"
    assert result["winner_variant"] is None
    assert result["best_variant"] is None
    assert [(a["variant"], a["n"], a["rate"]) for a in result["arms"]] == [
        ("A", 150, 10 / 150),
        ("B", 150, 80 / 150),
        ("C", 0, None),
    ]
    assert ab.row(c)["ab_winner_variant"] is None
    assert [d["outcome"] for d in ab.decisions(c)] == ["insufficient_sample"]


def test_bonferroni_keeps_a_best_arm_that_only_beats_the_runner_up_uncorrected(ab: Ab) -> None:
    c = ab.campaign(alpha=0.05)
    ab.step(c, variants("A", "B", "C"))
    ab.sends(c, "A", 500, replied=45)
    ab.sends(c, "B", 500, replied=66)
    ab.sends(c, "C", 500, replied=30)

    result = ab.evaluate(c)

    arms = arms_by_variant(result)
    assert float(result["alpha_corrected"]) == pytest.approx(0.025)
    assert result["best_variant"] == "B"
    assert 0.025 < arms["A"]["p_value"] < 0.05  # significant at alpha, not at alpha / 2
    assert arms["A"]["significant"] is False
    assert arms["C"]["significant"] is True
    assert result["outcome"] == "inconclusive"
    assert ab.row(c)["ab_winner_variant"] is None


def test_bonferroni_selects_a_best_arm_better_than_every_other_after_correction(ab: Ab) -> None:
    c = ab.campaign(alpha=0.05)
    ab.step(c, variants("A", "B", "C"))
    ab.sends(c, "A", 500, replied=40)
    ab.sends(c, "B", 500, replied=85)
    ab.sends(c, "C", 500, replied=30)

    result = ab.evaluate(c)

    arms = arms_by_variant(result)
    assert arms["A"]["p_value"] < 0.025
    assert arms["C"]["p_value"] < 0.025
    assert (result["outcome"], result["winner_variant"]) == ("winner", "B")
    assert ab.row(c)["ab_winner_variant"] == "B"


def test_only_sends_whose_metric_window_closed_count(ab: Ab) -> None:
    c = ab.campaign(min_sample=100, window="3 days")
    ab.step(c, variants("A", "B"))
    ab.sends(c, "A", 120, replied=12)
    ab.sends(c, "B", 120, replied=36)
    # Recent sends (one day old, inside the window) with many replies.
    ab.sends(c, "A", 80, replied=80, days_ago=RECENT)
    ab.sends(c, "B", 80, replied=0, days_ago=RECENT)
    # Exactly at the cutoff: closed.
    ab.sends(c, "A", 10, days_ago=3)

    result = ab.evaluate(c)

    arms = arms_by_variant(result)
    assert (arms["A"]["n"], arms["A"]["successes"]) == (130, 12)
    assert (arms["B"]["n"], arms["B"]["successes"]) == (120, 36)
    assert (result["outcome"], result["winner_variant"]) == ("winner", "B")


@pytest.mark.parametrize(
    ("metric", "winner", "successes"),
    [
        ("click", "B", {"A": 40, "B": 100}),
        # Opens: a click counts as an open; A's clicks without a recorded open
        # count, B's opens that also clicked count once.
        ("open", "A", {"A": 240, "B": 100}),
    ],
)
def test_click_and_open_metrics(ab: Ab, metric, winner, successes) -> None:
    c = ab.campaign(metric=metric)
    ab.step(c, variants("A", "B"))
    ab.sends(c, "A", 400, replied=300, opened=(1, 200), clicked=(201, 240))
    ab.sends(c, "B", 400, replied=0, opened=(1, 100), clicked=(1, 100))

    result = ab.evaluate(c)

    assert result["metric"] == metric
    assert {a["variant"]: a["successes"] for a in result["arms"]} == successes
    assert (result["outcome"], result["winner_variant"]) == ("winner", winner)
    assert ab.decisions(c)[0]["metric"] == metric


def test_with_auto_select_off_a_winner_is_only_significant(ab: Ab) -> None:
    c = ab.campaign(auto_select=False)
    ab.step(c, variants("A", "B"))
    ab.sends(c, "A", 400, replied=40)
    ab.sends(c, "B", 400, replied=100)
    before = ab.row(c)

    result = ab.evaluate(c)

    assert (result["outcome"], result["winner_variant"]) == ("significant", "B")
    assert ab.row(c) == before
    [decision] = ab.decisions(c)
    assert (decision["outcome"], decision["winner_variant"]) == ("significant", "B")
    assert ab.notifications(ab.orgs.a.admin_id) == []


def test_a_campaign_with_a_winner_is_evaluated_but_nothing_is_recorded(ab: Ab) -> None:
    c = ab.campaign()
    ab.step(c, variants("A", "B"))
    ab.sends(c, "A", 400, replied=40)
    ab.sends(c, "B", 400, replied=100)
    ab.select(c, "A")
    before = ab.row(c)
    decisions = ab.decisions(c)

    result = ab.evaluate(c)

    assert result["already_selected"] is True
    assert result["selected_variant"] == "A"
    assert result["decision_id"] is None
    assert result["winner_variant"] == "B"
    assert ab.row(c) == before
    assert ab.decisions(c) == decisions
    assert ab.notifications(ab.orgs.a.admin_id) == []


def test_the_owning_rep_may_evaluate(ab: Ab) -> None:
    c = ab.campaign(owner_id=ab.orgs.a.rep_ids[1])
    ab.step(c, variants("A", "B"))
    result = ab.evaluate(c, user=ab.orgs.a.rep_ids[1])
    assert result["outcome"] == "insufficient_sample"
    assert ab.decisions(c)[0]["decided_by"] == ab.orgs.a.rep_ids[1]


def test_a_rep_who_does_not_own_the_campaign_may_not_evaluate(ab: Ab) -> None:
    c = ab.campaign(owner_id=ab.orgs.a.rep_ids[0])
    ab.step(c, variants("A", "B"))
    with pytest.raises(PermissionDeniedError):
        ab.evaluate(c, user=ab.orgs.a.rep_ids[1])
    assert ab.decisions(c) == []


def test_evaluating_another_orgs_campaign_is_not_found(ab: Ab) -> None:
    c = ab.campaign()
    ab.step(c, variants("A", "B"))
    with pytest.raises(NotFoundError):
        ab.evaluate(c, user=ab.orgs.b.admin_id, org_id=ab.orgs.b.org_id)
    with pytest.raises(NotFoundError):
        ab.evaluate(uuid.uuid4())
    assert ab.decisions(c) == []


def test_a_step_without_ab_variants_is_invalid(ab: Ab) -> None:
    c = ab.campaign()
    ab.step(c, None, step_number=1)
    ab.step(c, variants("A", "B"), step_number=2)
    with pytest.raises(InvalidParameterError, match="no A/B variants"):
        ab.evaluate(c, 1)
    with pytest.raises(InvalidParameterError, match="no step 3"):
        ab.evaluate(c, 3)


def test_concurrent_evaluations_select_once(ab: Ab, db: Database) -> None:
    c = ab.campaign()
    ab.step(c, variants("A", "B"))
    ab.sends(c, "A", 400, replied=40)
    ab.sends(c, "B", 400, replied=100)
    results: list[dict[str, Any]] = []
    with db.connect("intime_service", autocommit=True) as other:
        set_clock(other)
        with actor(ab.conn, ab.orgs.a.org_id, ab.orgs.a.admin_id):
            first = ab.conn.execute("select api.evaluate_ab_test(%s, 1)", (c,)).fetchone()
            pid = other.info.backend_pid

            def second() -> None:
                with actor(other, ab.orgs.a.org_id, ab.orgs.a.admin_id):
                    row = other.execute("select api.evaluate_ab_test(%s, 1)", (c,)).fetchone()
                    assert row is not None
                    results.append(row[0])

            thread = threading.Thread(target=second)
            thread.start()
            deadline = time.monotonic() + 10
            while ab.scalar(
                "select wait_event_type is distinct from 'Lock' from pg_stat_activity "
                "where pid = %s",
                (pid,),
            ):
                assert time.monotonic() < deadline, "the second evaluation never waited"
                time.sleep(0.02)
        thread.join(10)
    assert first is not None
    assert first[0]["outcome"] == "winner"
    [again] = results
    assert again["already_selected"] is True
    assert again["decision_id"] is None
    assert len(ab.decisions(c)) == 1
    assert len(ab.notifications(ab.orgs.a.admin_id)) == 1


# Manual choice ---------------------------------------------------------------


def test_an_admin_selects_a_winner_by_hand_over_an_automatic_one(ab: Ab) -> None:
    c = ab.campaign(owner_id=ab.orgs.a.rep_ids[0])
    ab.step(c, variants("A", "B"), step_number=1)
    ab.step(c, variants("X", "Y"), step_number=2)
    ab.sends(c, "A", 400, replied=40)
    ab.sends(c, "B", 400, replied=100)
    assert ab.evaluate(c)["outcome"] == "winner"

    ab.select(c, "Y")

    row = ab.row(c)
    assert (row["ab_winner_variant"], row["ab_winner_step"]) == ("Y", 2)
    assert row["ab_winner_stats"] == {"manual": True}
    assert row["ab_winner_selected_by"] == ab.orgs.a.admin_id
    assert row["ab_winner_selected_at"] == AT
    manual = ab.decisions(c)[-1]
    assert (manual["outcome"], manual["winner_variant"], manual["step_number"]) == (
        "manual",
        "Y",
        2,
    )
    assert manual["decided_by"] == ab.orgs.a.admin_id
    assert [d["outcome"] for d in ab.decisions(c)] == ["winner", "manual"]


def test_the_campaign_owner_may_select_a_winner(ab: Ab) -> None:
    owner = ab.orgs.a.rep_ids[0]
    c = ab.campaign(owner_id=owner)
    ab.step(c, variants("A", "B"))
    ab.select(c, "A", 1, user=owner)
    assert (ab.row(c)["ab_winner_variant"], ab.row(c)["ab_winner_selected_by"]) == ("A", owner)


def test_a_rep_who_does_not_own_the_campaign_may_not_select(ab: Ab) -> None:
    c = ab.campaign(owner_id=ab.orgs.a.rep_ids[0])
    ab.step(c, variants("A", "B"))
    with pytest.raises(PermissionDeniedError):
        ab.select(c, "A", user=ab.orgs.a.rep_ids[1])
    assert ab.row(c)["ab_winner_variant"] is None
    assert ab.decisions(c) == []


def test_selecting_an_unknown_variant_is_invalid(ab: Ab) -> None:
    c = ab.campaign()
    ab.step(c, variants("A", "B"), step_number=1)
    ab.step(c, variants("X", "Y"), step_number=2)
    with pytest.raises(InvalidParameterError):
        ab.select(c, "Q")
    with pytest.raises(InvalidParameterError):
        ab.select(c, "X", 1)  # a variant of another step
    assert ab.row(c)["ab_winner_variant"] is None


def test_selecting_for_another_orgs_campaign_is_not_found(ab: Ab) -> None:
    c = ab.campaign()
    ab.step(c, variants("A", "B"))
    with pytest.raises(NotFoundError):
        ab.select(c, "A", user=ab.orgs.b.admin_id, org_id=ab.orgs.b.org_id)
    assert ab.row(c)["ab_winner_variant"] is None


# The scheduled job -----------------------------------------------------------


def clear_campaign(ab: Ab, org_id: uuid.UUID, name: str, **settings: Any) -> uuid.UUID:
    c = ab.campaign(org_id=org_id, name=name, **settings)
    ab.step(c, variants("A", "B"))
    ab.sends(c, "A", 400, replied=40)
    ab.sends(c, "B", 400, replied=100)
    return c


def test_the_job_evaluates_both_orgs_and_survives_a_broken_campaign(ab: Ab) -> None:
    a, b = ab.orgs.a.org_id, ab.orgs.b.org_id
    good_a = clear_campaign(ab, a, "Good A")
    good_b = clear_campaign(ab, b, "Good B")
    paused = clear_campaign(ab, a, "Paused", status="paused")
    decided = clear_campaign(ab, b, "Decided")
    ab.select(decided, "A", user=ab.orgs.b.admin_id, org_id=b)
    broken = ab.campaign(org_id=b, name="Broken")
    ab.step(broken, [{"id": "A", "weight": "heavy"}, {"id": "B", "weight": 1}])
    ab.sends(broken, "A", 400, replied=40)
    ab.sends(broken, "B", 400, replied=100)
    warnings: list[str] = []
    ab.conn.add_notice_handler(lambda d: warnings.append(d.message_primary or ""))

    assert ab.sweep() == 2

    assert ab.row(good_a)["ab_winner_variant"] == "B"
    assert ab.row(good_b)["ab_winner_variant"] == "B"
    assert ab.row(paused)["ab_winner_variant"] is None
    assert ab.decisions(paused) == []
    assert [d["outcome"] for d in ab.decisions(decided)] == ["manual"]
    assert ab.row(broken)["ab_winner_variant"] is None
    assert ab.decisions(broken) == []
    assert any(str(broken) in w and "weight" in w for w in warnings), warnings
    assert len(ab.notifications(ab.orgs.a.admin_id)) == 1
    assert len(ab.notifications(ab.orgs.b.admin_id)) == 1
    # Nothing left to decide: a second run selects nothing.
    assert ab.sweep() == 0


def test_the_job_stops_at_the_first_step_with_a_winner(ab: Ab) -> None:
    c = ab.campaign()
    ab.step(c, variants("A", "B"), step_number=1)
    ab.step(c, variants("C", "D"), step_number=2)
    ab.step(c, variants("E", "F"), step_number=3)
    ab.sends(c, "A", 200, replied=20)
    ab.sends(c, "B", 200, replied=22)
    for step, (lo, hi) in ((2, ("C", "D")), (3, ("E", "F"))):
        ab.sends(c, lo, 400, replied=40, step=step)
        ab.sends(c, hi, 400, replied=100, step=step)

    assert ab.sweep() == 1

    assert (ab.row(c)["ab_winner_variant"], ab.row(c)["ab_winner_step"]) == ("D", 2)
    assert [(d["step_number"], d["outcome"]) for d in ab.decisions(c)] == [
        (1, "inconclusive"),
        (2, "winner"),
    ]


def test_the_job_is_for_the_service_role_only(db: Database, two_orgs: TwoOrgs) -> None:
    with (
        db.connect(two_orgs.login_a, autocommit=True) as conn,
        pytest.raises(ServiceRoleRequiredError),
        errors_translated(),
    ):
        conn.execute("select api.evaluate_ab_tests()")


def test_an_unchanged_evaluation_is_not_recorded_again(ab: Ab) -> None:
    c = ab.campaign()
    ab.step(c, variants("A", "B"))
    ab.sends(c, "A", 50, replied=5)
    ab.evaluate(c)
    again = ab.evaluate(c)
    assert (again["outcome"], again["unchanged"], again["decision_id"]) == (
        "insufficient_sample",
        True,
        None,
    )
    assert len(ab.decisions(c)) == 1
    ab.sends(c, "B", 50, replied=5)
    assert ab.evaluate(c)["unchanged"] is False
    assert len(ab.decisions(c)) == 2
