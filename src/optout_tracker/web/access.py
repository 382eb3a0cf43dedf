"""Who may open a page: visitors are sent to sign in, signed-in users without the access
get the 403 page (the API answers 401 instead: http/auth.py `require`)."""

from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response

from ..enums import Access
from ..errors import Forbidden, Message
from ..http.auth import PrincipalDep
from ..i18n import Sentence
from ..security import Principal


class SignInFirst(Exception):
    """A visitor asked for a page that needs an account: answered by `sign_in_first`."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.location = f"/login?{urlencode({'next': path})}"


async def sign_in_first(request: Request, exc: Exception) -> Response:
    """The exception handler that sends the visitor to sign in, and back here after."""
    assert isinstance(exc, SignInFirst)
    return RedirectResponse(exc.location, status_code=303)


def require_page(access: Access, refusal: Message) -> Callable[[Request, Principal], Principal]:
    """A dependency that lets through only signed-in users with `access`."""

    def check(request: Request, principal: PrincipalDep) -> Principal:
        if principal.anonymous:
            raise SignInFirst(request.url.path)
        if not principal.can(access):
            raise Forbidden(refusal)
        return principal

    return check


Organizer = Annotated[
    Principal,
    Depends(require_page(Access.write, Sentence("logging events needs the organizer role"))),
]
AdminUser = Annotated[
    Principal, Depends(require_page(Access.admin, Sentence("the admin pages need the admin role")))
]
