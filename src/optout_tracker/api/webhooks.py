"""/api/v1/webhooks: admins subscribe partners to events and watch the deliveries."""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from sqlmodel import Session

from ..http.auth import Admin
from ..http.deps import IdPath, SessionDep, SettingsDep
from ..models import WebhookDelivery
from ..schemas import (
    MAX_ID,
    DeliveryFilters,
    Page,
    WebhookCreate,
    WebhookCreated,
    WebhookDeliveryPublic,
    WebhookFilters,
    WebhookPublic,
    WebhookUpdate,
)
from ..services import webhooks as service
from .conventions import LOCATED, QUEUED, page
from .idempotency import Idempotency, IdempotencyDep

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
DeliveryId = Annotated[int, Path(ge=1, le=MAX_ID, description="The delivery's id.")]


@router.get("")
def list_webhooks(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Admin,
    params: Annotated[WebhookFilters, Query()],
) -> Page[WebhookPublic]:
    """Every subscription; secrets are never shown again after creation."""
    items, total = service.list_(session, params)
    return page(request, response, [WebhookPublic.model_validate(w) for w in items], total, params)


@router.post("", status_code=201, response_model=WebhookCreated, responses=LOCATED)
def create_webhook(
    payload: WebhookCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    principal: Admin,
    idempotency: IdempotencyDep,
) -> WebhookCreated | Response:
    """Subscribe a URL to events; the answer holds the signing secret, shown this once."""
    # A retry with the same Idempotency-Key replays that answer, secret included.
    response.headers["Cache-Control"] = "no-store"
    return idempotency.create(
        payload,
        response,
        lambda: WebhookCreated.model_validate(
            service.create(
                session, payload, principal, allow_private=settings.webhook_allow_private
            )
        ),
        lambda body: str(request.url_for("get_webhook", webhook_id=body.id)),
    )


@router.get("/{webhook_id}")
def get_webhook(webhook_id: IdPath, session: SessionDep, principal: Admin) -> WebhookPublic:
    """One subscription."""
    return WebhookPublic.model_validate(service.get(session, webhook_id))


@router.patch("/{webhook_id}")
def update_webhook(
    webhook_id: IdPath,
    payload: WebhookUpdate,
    session: SessionDep,
    settings: SettingsDep,
    principal: Admin,
) -> WebhookPublic:
    """Change the URL, events, secret or `active` (inactive: deliveries wait, none are added)."""
    webhook = service.update(
        session,
        service.get(session, webhook_id),
        payload,
        principal,
        allow_private=settings.webhook_allow_private,
    )
    return WebhookPublic.model_validate(webhook)


@router.delete("/{webhook_id}", status_code=204, response_class=Response)
def delete_webhook(webhook_id: IdPath, session: SessionDep, principal: Admin) -> None:
    """Unsubscribe; the subscription's deliveries are deleted with it."""
    service.delete(session, service.get(session, webhook_id), principal)


@router.get("/{webhook_id}/deliveries")
def list_webhook_deliveries(
    webhook_id: IdPath,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Admin,
    params: Annotated[DeliveryFilters, Query()],
) -> Page[WebhookDeliveryPublic]:
    """The subscription's deliveries, newest first, each with every attempt and its outcome."""
    items, total = service.deliveries(session, webhook_id, params)
    return page(request, response, items, total, params)


@router.get("/{webhook_id}/deliveries/{delivery_id}")
def get_webhook_delivery(
    webhook_id: IdPath, delivery_id: DeliveryId, session: SessionDep, principal: Admin
) -> WebhookDeliveryPublic:
    """One delivery with its payload and attempts."""
    return service.delivery(session, webhook_id, delivery_id)


@router.post(
    "/{webhook_id}/test", status_code=202, response_model=WebhookDeliveryPublic, responses=QUEUED
)
def test_webhook(
    webhook_id: IdPath, request: Request, response: Response, session: SessionDep,
    principal: Admin, idempotency: IdempotencyDep,
) -> WebhookDeliveryPublic | Response:  # fmt: skip
    """Queue a `webhook.test` event for this subscription; the worker sends it at once."""

    return _queued(
        request, response, session, idempotency, webhook_id,
        lambda: service.send_test(session, service.get(session, webhook_id)),
    )  # fmt: skip


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    status_code=202,
    response_model=WebhookDeliveryPublic,
    responses=QUEUED,
)
def redeliver_webhook_delivery(
    webhook_id: IdPath, delivery_id: DeliveryId, request: Request, response: Response,
    session: SessionDep, principal: Admin, idempotency: IdempotencyDep,
) -> WebhookDeliveryPublic | Response:  # fmt: skip
    """Send a delivered or failed delivery's event again: a new delivery, the same webhook-id."""

    return _queued(
        request, response, session, idempotency, webhook_id,
        lambda: service.redeliver(session, service.get(session, webhook_id), delivery_id),
    )  # fmt: skip


def _queued(
    request: Request,
    response: Response,
    session: Session,
    idempotency: Idempotency,
    webhook_id: int,
    queue: Callable[[], WebhookDelivery],
) -> WebhookDeliveryPublic | Response:
    """202 with the delivery `queue` makes (once per Idempotency-Key: the path names what
    is queued, the body nothing) and its Location."""

    def make() -> WebhookDeliveryPublic:
        return service.with_attempts(session, [queue()])[0]

    return idempotency.once(
        "",
        response,
        make,
        status=202,
        location=lambda body: str(
            request.url_for("get_webhook_delivery", webhook_id=webhook_id, delivery_id=body.id)
        ),
    )
