"""Webhook subscriptions and their deliveries, as admins manage and inspect them."""

import base64
import json
import secrets
from collections import Counter, defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from sqlmodel import Session, col

from .. import audit, netguard
from ..db_types import utcnow
from ..enums import TEST_EVENT, AuditAction, DeliveryState
from ..errors import Conflict, FieldError, InvalidInput, NotFound
from ..i18n import Sentence
from ..models import Webhook, WebhookAttempt, WebhookDelivery
from ..schemas import (
    DeliveryFilters,
    ListParams,
    WebhookAttemptPublic,
    WebhookCreate,
    WebhookDeliveryPublic,
    WebhookUpdate,
)
from ..security import Principal
from . import outbox, records

LISTING = records.Listing(Webhook, equal=(), default_sort="id")
DELIVERIES = records.Listing(WebhookDelivery, equal=("state", "event"), default_sort="-id")


def new_secret() -> str:
    """A random key in the Standard Webhooks form ("whsec_", 32 bytes in base64), which the
    spec's libraries take as it is (webhook_worker.standard_key)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def list_(session: Session, params: ListParams) -> tuple[list[Webhook], int]:
    return LISTING.page(session, params)


def get(session: Session, webhook_id: int) -> Webhook:
    return records.get(session, Webhook, webhook_id)


def check_url(url: str, *, allow_private: bool) -> None:
    """A 422 on `url` for a receiver the worker would refuse to send to."""
    try:
        netguard.check_subscription(url, allow_private=allow_private)
    except netguard.Refused as exc:
        message = Sentence("not allowed: {reason}", reason=str(exc))
        raise InvalidInput(message, [FieldError("url", message)]) from None


def create(
    session: Session, data: WebhookCreate, actor: Principal, *, allow_private: bool = False
) -> Webhook:
    """A new subscription; its secret is the one given, or a new random one."""
    check_url(data.url, allow_private=allow_private)
    webhook = Webhook(**data.model_dump(exclude={"secret"}), secret=data.secret or new_secret())
    session.add(webhook)
    session.flush()
    audit.record(session, actor, AuditAction.create, webhook, None)
    return webhook


def update(
    session: Session,
    webhook: Webhook,
    data: WebhookUpdate,
    actor: Principal,
    *,
    allow_private: bool = False,
) -> Webhook:
    changes = records.changes_of(Webhook, data)
    if changes.get("url") is not None:
        check_url(changes["url"], allow_private=allow_private)
    if all(getattr(webhook, k) == v for k, v in changes.items()):
        return webhook  # nothing changes: no new version, no audit entry
    before = audit.snapshot(webhook)
    webhook.sqlmodel_update(changes)
    session.add(webhook)
    session.flush()
    audit.record(session, actor, AuditAction.update, webhook, before)
    return webhook


def delete(session: Session, webhook: Webhook, actor: Principal) -> None:
    """The subscription goes, and with it its deliveries, sent or not."""
    audit.record(session, actor, AuditAction.delete, webhook, audit.snapshot(webhook))
    session.delete(webhook)
    session.flush()


def send_test(session: Session, webhook: Webhook) -> WebhookDelivery:
    """Queue a `webhook.test` event for this subscription only, due at once."""
    if not webhook.active:
        raise Conflict(Sentence("the webhook is inactive: activate it before testing it"))
    data = {"webhook_id": webhook.id, "message": "A test event from optout-tracker."}
    row = outbox.delivery_row(webhook.id or 0, TEST_EVENT, outbox.body(TEST_EVENT, utcnow(), data))
    delivery = WebhookDelivery(**row)
    session.add(delivery)
    session.flush()
    return delivery


def redeliver(session: Session, webhook: Webhook, delivery_id: int) -> WebhookDelivery:
    """Send a delivered or failed delivery's event again, as a new delivery due at once (with
    retries of its own): the same body and message id (webhook-id), a uuid of its own; the
    first delivery and its attempts stay as they were."""
    original = _own_delivery(session, webhook.id or 0, delivery_id)
    if not webhook.active:
        raise Conflict(Sentence("the webhook is inactive: activate it before redelivering"))
    if original.state is DeliveryState.pending:
        raise Conflict(
            Sentence(
                "delivery {id} is still pending: the worker sends it, and retries it, "
                "without being asked",
                id=str(delivery_id),
            )
        )
    row = outbox.delivery_row(
        webhook.id or 0, original.event, original.body, message_id=original.message_id
    )
    delivery = WebhookDelivery(**row)
    session.add(delivery)
    session.flush()
    return delivery


def undelivered_counts(
    session: Session, webhook_ids: Sequence[int]
) -> dict[int, Counter[DeliveryState]]:
    """Pending and failed deliveries of each subscription, by state, in one grouped query."""
    counts: dict[int, Counter[DeliveryState]] = {
        webhook_id: Counter() for webhook_id in webhook_ids
    }
    if not webhook_ids:
        return counts
    rows = session.execute(
        sa.select(col(WebhookDelivery.webhook_id), col(WebhookDelivery.state), sa.func.count())
        .where(
            col(WebhookDelivery.webhook_id).in_(webhook_ids),
            col(WebhookDelivery.state).in_([DeliveryState.pending, DeliveryState.failed]),
        )
        .group_by(col(WebhookDelivery.webhook_id), col(WebhookDelivery.state))
    )
    for webhook_id, state, count in rows:
        counts[webhook_id][DeliveryState(state)] = count
    return counts


def deliveries(
    session: Session, webhook_id: int, params: DeliveryFilters
) -> tuple[list[WebhookDeliveryPublic], int]:
    """One subscription's deliveries, newest first, each with its attempts."""
    get(session, webhook_id)
    found, total = DELIVERIES.page(session, params, col(WebhookDelivery.webhook_id) == webhook_id)
    return with_attempts(session, found), total


def delivery(session: Session, webhook_id: int, delivery_id: int) -> WebhookDeliveryPublic:
    return with_attempts(session, [_own_delivery(session, webhook_id, delivery_id)])[0]


def _own_delivery(session: Session, webhook_id: int, delivery_id: int) -> WebhookDelivery:
    found = records.get(session, WebhookDelivery, delivery_id)
    if found.webhook_id != webhook_id:
        raise NotFound(
            Sentence(
                "webhook {webhook} has no delivery {delivery}",
                webhook=str(webhook_id),
                delivery=str(delivery_id),
            )
        )
    return found


def with_attempts(session: Session, found: list[WebhookDelivery]) -> list[WebhookDeliveryPublic]:
    by_delivery: dict[int, list[WebhookAttempt]] = defaultdict(list)
    attempts = session.scalars(
        sa.select(WebhookAttempt)
        .where(col(WebhookAttempt.delivery_id).in_([d.id for d in found]))
        .order_by(col(WebhookAttempt.number))
    )
    for attempt in attempts:
        by_delivery[attempt.delivery_id].append(attempt)
    return [
        WebhookDeliveryPublic.model_validate(
            {
                **d.model_dump(),
                "payload": json.loads(d.body),
                "attempts": [
                    WebhookAttemptPublic.model_validate(a) for a in by_delivery[d.id or 0]
                ],
            }
        )
        for d in found
    ]
