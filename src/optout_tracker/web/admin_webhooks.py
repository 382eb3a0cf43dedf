"""`/admin/webhooks`: partners' subscriptions, and every delivery with its attempts."""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from ..enums import TEST_EVENT, DeliveryState
from ..errors import AppError, Conflict, FieldError, InvalidInput
from ..http import csrf
from ..http.deps import IdPath, SessionDep, SettingsDep
from ..i18n import Sentence, gettext
from ..models import Webhook
from ..schemas import (
    RECORD_EVENTS,
    WEBHOOK_EVENTS,
    DeliveryFilters,
    ListParams,
    WebhookCreate,
    WebhookUpdate,
)
from ..security import Principal
from ..services import webhook_pages, webhooks
from ..text_input import field_errors
from .access import AdminUser
from .forms import FormData, Once
from .templating import flash, pager_links, render

router = APIRouter(prefix="/admin", include_in_schema=False, dependencies=[Depends(csrf.verify)])

# The event boxes of the add and edit forms: a grid of record events (entity by action),
# then the others.
EVENT_BOXES = {
    "record_events": RECORD_EVENTS,
    "other_events": [e for e in WEBHOOK_EVENTS if e not in RECORD_EVENTS],
}


async def posted_events(request: Request) -> list[str]:
    """The ticked event boxes: one field per box, of which FormData keeps only the last."""
    form = await request.form()
    return [v.strip() for v in form.getlist("events") if isinstance(v, str)]


PostedEvents = Annotated[list[str], Depends(posted_events)]


def _webhooks_page(
    request: Request,
    principal: Principal,
    session: Session,
    status_code: int = 200,
    params: ListParams | None = None,
    **form: Any,
) -> Response:
    """The subscriptions and the add form; `created` shows a new subscription's secret once."""
    page = webhook_pages.subscriptions(session, params or ListParams())
    context = {"values": {}, "errors": {}, "chosen": ["*"], "created": None, **form}
    return render(
        request,
        principal,
        "admin_webhooks.html",
        status_code,
        page=page,
        links=pager_links(request, page.params, page.total),
        **EVENT_BOXES,
        **context,
    )


def _webhook_page(
    request: Request,
    principal: Principal,
    session: Session,
    webhook: Webhook,
    status_code: int = 200,
    params: DeliveryFilters | None = None,
    **form: Any,
) -> Response:
    """One subscription, its deliveries and the edit form, filled with what is stored unless
    `values`/`chosen`/`errors` of a refused edit are given; `new_secret` is shown once."""
    page = webhook_pages.subscription(session, webhook, params or DeliveryFilters())
    stored = {"url": webhook.url, "description": webhook.description or ""}
    context = {"values": stored, "chosen": webhook.events, "errors": {}, "new_secret": None}
    return render(
        request,
        principal,
        "admin_webhook.html",
        status_code,
        page=page,
        links=pager_links(request, page.params, page.total),
        states=list(DeliveryState),
        event_names=[*WEBHOOK_EVENTS, TEST_EVENT],
        as_json=lambda value: json.dumps(value, indent=2, ensure_ascii=False),
        **EVENT_BOXES,
        **(context | form),
    )


def _webhook_input(form: dict[str, str], events: list[str]) -> WebhookCreate:
    """The add form as the API's body: empty text is absent (as `parse` has it), the ticked
    boxes are the list of events."""
    text = {k: v for k, v in form.items() if v and k in {"url", "secret", "description"}}
    return WebhookCreate.model_validate({**text, "events": events})


def _webhook_changes(form: dict[str, str], events: list[str]) -> WebhookUpdate:
    """The edit form as a PATCH body: the URL, the description (empty removes it) and the
    ticked events always; the secret only when a new one is typed or to be generated."""
    data: dict[str, Any] = {
        "url": form.get("url", ""),
        "description": form.get("description") or None,
        "events": events,
    }
    secret, generate = form.get("secret", ""), form.get("generate_secret") == "true"
    if secret and generate:
        message = Sentence("leave this empty to have a secret generated, or untick “generate”")
        raise InvalidInput(message, [FieldError("secret", message)])
    if secret or generate:
        data["secret"] = secret or webhooks.new_secret()
    return WebhookUpdate.model_validate(data)


def _webhook_errors(exc: ValidationError | AppError, events: list[str]) -> dict[str, str]:
    """Errors by form field: a bad `events[2]` is shown beside the events boxes."""
    errors: dict[str, str] = {}
    for name, message in field_errors(exc).items():
        errors.setdefault(name.split("[", 1)[0], message)
    if "events" in errors and not events:
        errors["events"] = gettext("tick at least one event, or all events")
    return errors


def _back(form: dict[str, str], webhook_id: int) -> str:
    """The page an action's form was on: the subscription's own page or the list."""
    return f"/admin/webhooks/{webhook_id}" if form.get("back") == "detail" else "/admin/webhooks"


@router.get("/webhooks", response_class=HTMLResponse)
def webhooks_page(
    request: Request,
    session: SessionDep,
    principal: AdminUser,
    params: Annotated[ListParams, Query()],
) -> Response:
    """Webhook subscriptions, their undelivered events, and a form to add one."""
    return _webhooks_page(request, principal, session, params=params)


@router.post("/webhooks", response_class=HTMLResponse)
def create_webhook(
    request: Request,
    form: FormData,
    events: PostedEvents,
    session: SessionDep,
    settings: SettingsDep,
    principal: AdminUser,
    once: Once,
) -> Response:
    """Subscribe a URL to events; the answer shows its signing secret, this once."""
    allow_private = settings.webhook_allow_private
    try:
        with session.begin_nested():
            webhook = webhooks.create(
                session, _webhook_input(form, events), principal, allow_private=allow_private
            )
    except (ValidationError, AppError) as exc:
        response = _webhooks_page(
            request,
            principal,
            session,
            422,
            values=form,
            chosen=events,
            errors=_webhook_errors(exc, events),
        )
    else:
        # Like a new API key: shown on this answer only, no redirect, not cached.
        once.remember(f"/admin/webhooks/{webhook.id}")
        response = _webhooks_page(request, principal, session, created=webhook)
    response.headers["Cache-Control"] = "no-store"  # both answers may hold a secret
    return response


@router.get("/webhooks/{webhook_id}", response_class=HTMLResponse)
def webhook_page(
    request: Request,
    webhook_id: IdPath,
    session: SessionDep,
    principal: AdminUser,
    params: Annotated[DeliveryFilters, Query()],
) -> Response:
    """One subscription and its deliveries, newest first, with every attempt."""
    webhook = webhooks.get(session, webhook_id)
    return _webhook_page(request, principal, session, webhook, params=params)


@router.post("/webhooks/{webhook_id}", response_class=HTMLResponse)
def edit_webhook(
    request: Request,
    webhook_id: IdPath,
    form: FormData,
    events: PostedEvents,
    session: SessionDep,
    settings: SettingsDep,
    principal: AdminUser,
    once: Once,
) -> Response:
    """Change a subscription's URL, description, events or secret; a generated secret is
    shown on this answer only."""
    webhook = webhooks.get(session, webhook_id)
    try:
        with session.begin_nested():
            changes = _webhook_changes(form, events)
            webhooks.update(
                session, webhook, changes, principal, allow_private=settings.webhook_allow_private
            )
    except (ValidationError, AppError) as exc:
        response = _webhook_page(
            request,
            principal,
            session,
            webhook,
            422,
            values=form,
            chosen=events,
            errors=_webhook_errors(exc, events),
        )
    else:
        if form.get("generate_secret") != "true":
            message = Sentence("Saved the subscription of {url}.", url=webhook.url)
            return once.saved(f"/admin/webhooks/{webhook_id}", message)
        # Like a new subscription's: shown on this answer only, no redirect, not cached.
        once.remember(f"/admin/webhooks/{webhook_id}")
        response = _webhook_page(request, principal, session, webhook, new_secret=changes.secret)
    response.headers["Cache-Control"] = "no-store"  # both answers may hold a secret
    return response


@router.post("/webhooks/{webhook_id}/active", response_class=HTMLResponse)
def set_webhook_active(
    request: Request,
    webhook_id: IdPath,
    form: FormData,
    session: SessionDep,
    principal: AdminUser,
    once: Once,
) -> Response:
    """Pause or resume a subscription."""
    active = form.get("active") == "true"
    # The URL is not changed, so not checked: a refused one is refused at delivery.
    webhook = webhooks.update(
        session,
        webhooks.get(session, webhook_id),
        WebhookUpdate(active=active),
        principal,
        allow_private=False,
    )
    if active:
        message = Sentence("{url} is active again: its waiting deliveries resume.", url=webhook.url)
    else:
        message = Sentence(
            "{url} is paused: no new events are queued, pending ones wait.", url=webhook.url
        )
    return once.saved(_back(form, webhook_id), message)


@router.post("/webhooks/{webhook_id}/test", response_class=HTMLResponse)
def send_test_event(
    request: Request,
    webhook_id: IdPath,
    form: FormData,
    session: SessionDep,
    principal: AdminUser,
    once: Once,
) -> Response:
    """Queue a `webhook.test` event for this subscription only."""
    webhook = webhooks.get(session, webhook_id)
    try:
        with session.begin_nested():
            delivery = webhooks.send_test(session, webhook)
    except Conflict as exc:
        flash(request, Sentence("No test event was queued ({reason}).", reason=exc.detail))
        return RedirectResponse(_back(form, webhook_id), status_code=303)
    return once.saved(
        _back(form, webhook_id),
        Sentence(
            "A {event} event (delivery {delivery}) is queued for {url}; "
            "the worker sends it on its next round.",
            event=TEST_EVENT,
            delivery=str(delivery.uuid),
            url=webhook.url,
        ),
    )


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", response_class=HTMLResponse
)
def redeliver(
    request: Request,
    webhook_id: IdPath,
    delivery_id: IdPath,
    session: SessionDep,
    principal: AdminUser,
    once: Once,
) -> Response:
    """Send a delivered or failed delivery's event again, as a new delivery."""
    webhook = webhooks.get(session, webhook_id)
    back = f"/admin/webhooks/{webhook_id}"
    try:
        with session.begin_nested():
            delivery = webhooks.redeliver(session, webhook, delivery_id)
    except Conflict as exc:
        flash(request, Sentence("Nothing was redelivered ({reason}).", reason=exc.detail))
        return RedirectResponse(back, status_code=303)
    return once.saved(
        back,
        Sentence(
            "The {event} event is queued again (delivery {delivery}, webhook-id {message}); "
            "the worker sends it on its next round.",
            event=delivery.event,
            delivery=str(delivery.uuid),
            message=str(delivery.message_id),
        ),
    )


@router.post("/webhooks/{webhook_id}/delete", response_class=HTMLResponse)
def delete_webhook(
    webhook_id: IdPath, session: SessionDep, principal: AdminUser, once: Once
) -> Response:
    """Unsubscribe: the subscription goes, with its deliveries."""
    webhook = webhooks.get(session, webhook_id)
    url = webhook.url
    webhooks.delete(session, webhook, principal)
    deleted = Sentence("Deleted the subscription of {url} and its deliveries.", url=url)
    return once.saved("/admin/webhooks", deleted)
