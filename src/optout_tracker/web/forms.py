"""HTML forms over the API's schemas: the same validation, errors next to their fields."""

from typing import Annotated

from fastapi import Depends, Request

from ..errors import FieldError, InvalidInput
from ..schemas import CONTROL


async def form_data(request: Request) -> dict[str, str]:
    """The posted fields as text (each page router has checked the CSRF token: csrf.verify)."""
    form = await request.form()
    data = {k: v.strip() for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    if bad := [k for k, v in data.items() if CONTROL.search(v)]:
        raise InvalidInput(
            "the form holds control characters",
            [FieldError(k, "must not contain control characters") for k in bad],
        )
    return data


FormData = Annotated[dict[str, str], Depends(form_data)]
