"""Idempotency-Key on POST: a retried request gets the first answer instead of a duplicate.

The key is claimed before the work and its answer filled in by the same transaction
(services/idempotency.py, which the pages' one-time form tokens use too).
"""

import hashlib
from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Request, Response
from pydantic import BaseModel
from sqlmodel import Session

from ..errors import FieldError, InvalidInput
from ..http.auth import PrincipalDep
from ..http.deps import SessionDep
from ..models import IdempotencyKey
from ..security import Principal
from ..services import idempotency
from .conventions import OptionalHeader, answers

HEADER = "Idempotency-Key"
M = TypeVar("M", bound=BaseModel)


class Idempotency:
    def __init__(
        self, key: str | None, request: Request, session: Session, principal: Principal
    ) -> None:
        self.key = key
        self.scope = f"{request.method} {request.url.path}"
        self.session, self.principal = session, principal
        self.claimed: int | None = None  # the id of the row this request holds
        if self.key is not None and not 1 <= len(self.key) <= 255:
            raise InvalidInput(
                "bad Idempotency-Key", [FieldError(HEADER, "must be 1 to 255 characters")]
            )

    def claim(self, request: str) -> IdempotencyKey | None:
        """Take the key for this request (`request` is what must match on a retry: the body,
        say); None if this request goes ahead, or the earlier request's stored answer."""
        if self.key is None:
            return None
        digest = hashlib.sha256(f"{self.scope}\n{request}".encode()).hexdigest()
        claim = idempotency.claim(self.session, self.principal.key, self.key, digest)
        if claim.earlier is None:
            self.claimed = claim.id
            return None
        if claim.earlier.request_hash != digest:
            raise InvalidInput(
                "this Idempotency-Key was used with another request",
                [FieldError(HEADER, "already used for a different body or path")],
            )
        return claim.earlier

    def remember(self, status: int, body: BaseModel, response: Response) -> None:
        """Store the answer for the key this request claimed (if it sent one), with the
        headers that name what it made (Location, ETag)."""
        if self.claimed is not None:
            idempotency.remember(
                self.session,
                self.claimed,
                status,
                body.model_dump_json(),
                response.headers.get("location"),
                response.headers.get("etag"),
            )

    def once(
        self,
        request: str,
        response: Response,
        make: Callable[[], M],
        *,
        status: int = 200,
        location: Callable[[M], str] | None = None,
    ) -> M | Response:
        """Run `make` once per key and request; replay its answer for a retry."""
        if (earlier := self.claim(request)) is not None:
            headers = {"Idempotent-Replayed": "true"}
            if earlier.location:
                headers["Location"] = earlier.location
            if earlier.etag:  # the record's tag then: a retry that comes after an edit
                headers["ETag"] = earlier.etag  # gets a 412 with it, as its sender should
            if cache := response.headers.get("cache-control"):
                headers["Cache-Control"] = cache
            return Response(
                earlier.response_body, status_code=earlier.status_code,
                media_type="application/json", headers=headers,
            )  # fmt: skip
        body = make()
        response.status_code = status
        if location is not None:
            response.headers["Location"] = location(body)
        self.remember(status, body, response)
        return body

    def create(
        self,
        payload: BaseModel,
        response: Response,
        make: Callable[[], M],
        location: Callable[[M], str],
    ) -> M | Response:
        """`once` for a POST that creates a record from a JSON body: 201 and its Location."""
        return self.once(payload.model_dump_json(), response, make, status=201, location=location)


def dependency(description: str) -> Callable[..., Idempotency]:
    """The dependency of a POST that honours the header, documented with `description`."""

    @answers({}, sends=("Idempotent-Replayed",))
    def get_idempotency(
        request: Request,
        session: SessionDep,
        principal: PrincipalDep,
        key: Annotated[OptionalHeader, Header(alias=HEADER, description=description)] = None,
    ) -> Idempotency:
        return Idempotency(key, request, session, principal)

    return get_idempotency


IdempotencyDep = Annotated[
    Idempotency,
    Depends(
        dependency("A retry with the same key and body gets the first answer, not a duplicate.")
    ),
]
# A new API key's token is kept by nobody but its holder: a retry cannot replay it.
ApiKeyIdempotencyDep = Annotated[
    Idempotency,
    Depends(dependency("A retry with the same key and body creates no second key: 409 names it.")),
]
