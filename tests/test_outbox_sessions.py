"""The outbox hooks the sessions its events are published in, and no other."""

from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm
from sqlmodel import Session

from optout_tracker.services import outbox
from tests import factories

HOOKS = (
    ("before_commit", outbox._write_deliveries),
    ("after_soft_rollback", outbox._drop_rolled_back),
)


def hooked(target: Any) -> list[bool]:
    return [sa.event.contains(target, name, hook) for name, hook in HOOKS]


def test_importing_the_outbox_hooks_no_session_class() -> None:
    assert hooked(Session) == hooked(sqlalchemy.orm.Session) == [False, False]


def test_a_session_is_hooked_by_its_first_event_and_delivers_each_event_once(
    session: Session,
) -> None:
    factories.webhook(session, events=["*"])
    before = len(factories.deliveries(session))
    for round_ in (1, 2):
        outbox.publish(session, "webhook.test", lambda _: {"test": True})
        assert hooked(session) == [True, True]
        session.commit()
        assert len(factories.deliveries(session)) == before + round_
    assert hooked(Session()) == [False, False]  # a session that publishes nothing
