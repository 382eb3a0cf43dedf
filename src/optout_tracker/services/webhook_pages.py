"""What the admin's webhook pages show: the subscriptions with their undelivered events, and
one subscription with a page of its deliveries."""

from collections import Counter
from dataclasses import dataclass

from sqlmodel import Session

from ..enums import DeliveryState
from ..models import Webhook
from ..schemas import DeliveryFilters, ListParams, WebhookDeliveryPublic
from . import webhooks as service


@dataclass(frozen=True)
class SubscriptionsPage:
    webhooks: list[Webhook]
    total: int
    params: ListParams
    counts: dict[int, Counter[DeliveryState]]  # pending and failed deliveries of each


@dataclass(frozen=True)
class SubscriptionPage:
    webhook: Webhook
    deliveries: list[WebhookDeliveryPublic]  # newest first, each with its attempts
    total: int
    params: DeliveryFilters


def subscriptions(session: Session, params: ListParams) -> SubscriptionsPage:
    """A page of the subscriptions, with their undelivered events counted in one query."""
    items, total = service.list_(session, params)
    counts = service.undelivered_counts(session, [w.id for w in items if w.id is not None])
    return SubscriptionsPage(items, total, params, counts)


def subscription(session: Session, webhook: Webhook, params: DeliveryFilters) -> SubscriptionPage:
    """One subscription and a page of its deliveries."""
    deliveries, total = service.deliveries(session, webhook.id or 0, params)
    return SubscriptionPage(webhook, deliveries, total, params)
