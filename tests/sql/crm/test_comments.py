"""Comments and @mentions."""

from __future__ import annotations

import pytest

from intime.db import actor
from intime.errors import NotFoundError
from tests.support import TwoOrgs


def test_a_comment_cannot_mention_a_user_of_another_org(service, two_orgs: TwoOrgs) -> None:
    with (
        pytest.raises(NotFoundError, match="mentioned user"),
        actor(service, two_orgs.a.org_id, two_orgs.a.admin_id),
    ):
        service.execute(
            "insert into app.comments (entity_type, entity_id, body, mentioned_user_ids) "
            "values ('deal', %s, 'hi @them', array[%s]::uuid[])",
            (two_orgs.a.deal_ids[0], two_orgs.b.admin_id),
        )


def test_a_comment_can_mention_users_of_its_own_org(service, admin, two_orgs: TwoOrgs) -> None:
    org = two_orgs.a
    with actor(service, org.org_id, org.admin_id):
        service.execute(
            "insert into app.comments (entity_type, entity_id, body, mentioned_user_ids) "
            "values ('deal', %s, 'ping', array[%s, %s]::uuid[])",
            (org.deal_ids[0], org.manager_id, org.rep_ids[0]),
        )
    row = admin.execute(
        "select count(*) from app.comments where %s = any(mentioned_user_ids)", (org.rep_ids[0],)
    ).fetchone()
    assert row == (1,)
