"""HTML forms over the API's schemas: the same validation, errors next to their fields."""

from typing import Annotated

from fastapi import Depends, Request

from .. import csrf
from ..errors import FieldError, Forbidden, InvalidInput
from ..schemas import CONTROL


async def csrf_protected(request: Request) -> None:
    """Every form post carries the session's CSRF token (see csrf.py)."""
    if request.method not in csrf.SAFE_METHODS and not await csrf.is_valid(request):
        raise Forbidden("missing or wrong CSRF token: reload the page and submit again")


async def form_data(request: Request) -> dict[str, str]:
    """The posted fields as text (the CSRF token is checked before this, for every form)."""
    form = await request.form()
    data = {k: v.strip() for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    if bad := [k for k, v in data.items() if CONTROL.search(v)]:
        raise InvalidInput(
            "the form holds control characters",
            [FieldError(k, "must not contain control characters") for k in bad],
        )
    return data


FormData = Annotated[dict[str, str], Depends(form_data)]
