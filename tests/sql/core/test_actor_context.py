"""The service role's actor lives exactly as long as its transaction."""

from __future__ import annotations

import pytest

from intime.db import actor
from intime.errors import NotFoundError
from tests.support import TwoOrgs


def test_a_session_level_setting_is_not_an_actor(service, two_orgs: TwoOrgs) -> None:
    service.execute("select set_config('intime.org_id', %s, false)", (str(two_orgs.a.org_id),))
    with service.transaction():
        row = service.execute("select app.current_org_id(), count(*) from app.deals").fetchone()
    assert row == (None, 0)


def test_a_setting_left_from_an_earlier_transaction_is_not_an_actor(
    service, two_orgs: TwoOrgs
) -> None:
    with service.transaction():
        service.execute(
            "select set_config('intime.actor_stamp', "
            "extract(epoch from transaction_timestamp())::text, false), "
            "set_config('intime.org_id', %s, false)",
            (str(two_orgs.a.org_id),),
        )
    with service.transaction():
        assert service.execute("select app.current_org_id()").fetchone() == (None,)


def test_actor_refuses_to_nest_inside_an_open_transaction(service, two_orgs: TwoOrgs) -> None:
    with service.transaction(), pytest.raises(RuntimeError, match="own transaction"):  # noqa: SIM117
        with actor(service, two_orgs.a.org_id):
            pass


def test_an_inactive_user_cannot_be_an_actor(service, two_orgs: TwoOrgs) -> None:
    org = two_orgs.a
    with actor(service, org.org_id):
        service.execute(
            "select api.update_user(p_user_id => %s, p_changes => '{\"is_active\": false}')",
            (org.rep_ids[1],),
        )
    with (
        pytest.raises(NotFoundError, match="not found"),
        actor(service, org.org_id, org.rep_ids[1]),
    ):
        pass
