"""Idempotency-Key on POST: a retried request gets the first answer instead of a duplicate."""

import hashlib
import json
from collections.abc import Callable
from typing import Annotated, TypeVar

import sqlalchemy as sa
from fastapi import Depends, Request, Response
from pydantic import BaseModel
from sqlmodel import Session

from ..errors import FieldError, InvalidInput
from ..models import IdempotencyKey
from ..schemas import Record
from ..security import Principal
from .auth import PrincipalDep
from .deps import SessionDep

HEADER = "Idempotency-Key"
R = TypeVar("R", bound=Record)


class Idempotency:
    def __init__(self, request: Request, session: Session, principal: Principal) -> None:
        self.key = request.headers.get(HEADER)
        self.scope = f"{request.method} {request.url.path}"
        self.session, self.principal = session, principal
        if self.key is not None and not 1 <= len(self.key) <= 255:
            raise InvalidInput(
                "bad Idempotency-Key", [FieldError(HEADER, "must be 1 to 255 characters")]
            )

    def create(
        self,
        payload: BaseModel,
        response: Response,
        make: Callable[[], R],
        location: Callable[[R], str],
    ) -> R | Response:
        """Run `make` once per key and payload; replay its answer for a retry."""
        digest = hashlib.sha256(f"{self.scope}\n{payload.model_dump_json()}".encode()).hexdigest()
        if self.key is not None:
            earlier = self.session.scalars(
                sa.select(IdempotencyKey).filter_by(actor=self.principal.key, key=self.key)
            ).first()
            if earlier is not None:
                if earlier.request_hash != digest:
                    raise InvalidInput(
                        "this Idempotency-Key was used with another request",
                        [FieldError(HEADER, "already used for a different body or path")],
                    )
                headers = {"Location": earlier.location} if earlier.location else {}
                return Response(
                    earlier.response_body,
                    status_code=earlier.status_code,
                    media_type="application/json",
                    headers={**headers, "Idempotent-Replayed": "true"},
                )
        body = make()
        response.status_code = 201
        response.headers["Location"] = location(body)
        if self.key is not None:
            self.session.add(
                IdempotencyKey(
                    actor=self.principal.key,
                    key=self.key,
                    request_hash=digest,
                    status_code=201,
                    response_body=json.dumps(body.model_dump(mode="json")),
                    location=response.headers["Location"],
                )
            )
            self.session.flush()
        return body


def get_idempotency(request: Request, session: SessionDep, principal: PrincipalDep) -> Idempotency:
    return Idempotency(request, session, principal)


IdempotencyDep = Annotated[Idempotency, Depends(get_idempotency)]
