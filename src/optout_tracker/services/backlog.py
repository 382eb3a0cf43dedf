"""What the outboxes (webhook deliveries, mail) hold that is not out yet: for `/metrics`."""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col

from ..enums import DeliveryState
from ..models import MailMessage, WebhookDelivery

Outbox = type[WebhookDelivery] | type[MailMessage]
OUTBOXES: dict[str, Outbox] = {"webhook": WebhookDelivery, "mail": MailMessage}


@dataclass(frozen=True)
class Depth:
    """Messages pending (due now, waiting for a retry, or being sent) and how long the one
    due longest ago has been due (0 when none is due yet)."""

    pending: int
    oldest_due_seconds: float


def depths(session: Session, now: datetime) -> dict[str, Depth]:
    """Each outbox's depth: one query each, answered from its (state, next_attempt_at) index."""
    found = {}
    for name, table in OUTBOXES.items():
        pending, oldest = session.execute(
            sa.select(sa.func.count(), sa.func.min(col(table.next_attempt_at))).where(
                col(table.state) == DeliveryState.pending
            )
        ).one()
        waited = (now - oldest).total_seconds() if oldest is not None else 0.0
        found[name] = Depth(pending, max(waited, 0.0))
    return found
