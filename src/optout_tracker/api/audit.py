"""/api/v1/audit: who changed what (admins only)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from ..http.auth import Admin
from ..http.deps import SessionDep
from ..models import AuditEntry
from ..schemas import AuditEntryPublic, AuditFilters, Page
from ..services import records
from .conventions import page

router = APIRouter(prefix="/audit", tags=["audit"])
AUDIT = records.Listing(
    AuditEntry,
    equal=("entity", "entity_id", "jurisdiction_id", "actor_kind", "actor_id", "action"),
    default_sort="-created_at",
    same_as={"updated_at": "created_at"},  # an entry is never updated
)


@router.get("")
def list_audit_entries(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Admin,
    params: Annotated[AuditFilters, Query()],
) -> Page[AuditEntryPublic]:
    """The audit log, newest first: filter by entity, id, jurisdiction, actor and time."""
    items, total = AUDIT.page(session, params)
    entries = [AuditEntryPublic.model_validate(e) for e in items]
    return page(request, response, entries, total, params)
