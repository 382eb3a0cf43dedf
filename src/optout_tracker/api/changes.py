"""/api/v1/changes: what was created, updated and deleted, in order, for syncing a copy."""

from typing import Annotated

from fastapi import APIRouter, Query

from ..enums import Access
from ..http.auth import PrincipalDep
from ..http.deps import SessionDep
from ..schemas import ChangesPage, ChangesParams
from ..services import changes

router = APIRouter(prefix="/changes", tags=["changes"])


@router.get("")
def list_changes(
    session: SessionDep, principal: PrincipalDep, params: Annotated[ChangesParams, Query()]
) -> ChangesPage:
    """Records created, updated and deleted after a cursor, oldest first; deletions too."""
    cursor = int(params.after or 0)
    return changes.after(session, cursor, params.limit, private=principal.can(Access.read))
