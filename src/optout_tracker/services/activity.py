"""What `/activity` shows: the latest public changes and the latest events."""

from dataclasses import dataclass

from sqlmodel import Session

from ..models import Jurisdiction
from ..schemas import TimelineEntry
from . import campaign, feeds

CHANGES = 100
EVENTS = 25


@dataclass(frozen=True)
class ActivityPage:
    changes: list[feeds.Change]
    recent: list[tuple[Jurisdiction, TimelineEntry]]


def activity(session: Session) -> ActivityPage:
    """The latest changes to campaign records and the latest events, newest first."""
    return ActivityPage(
        changes=feeds.changes(session, limit=CHANGES),
        recent=campaign.recent_events(session, limit=EVENTS),
    )
