"""HTTP conventions of the API: pages with a Link header, ETags with conditional requests."""

import hashlib
import json
from collections.abc import Callable, Sequence
from http import HTTPStatus
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request, Response
from pydantic import BaseModel, WithJsonSchema

from ..enums import Access
from ..errors import PreconditionFailed
from ..http import problems
from ..http.public_cache import identity_tag
from ..models import Tracked
from ..schemas import PRIVATE_FIELDS, Page, PageParams, Record
from ..security import Principal

T = TypeVar("T", bound=BaseModel)
R = TypeVar("R", bound=Record)
D = TypeVar("D", bound=Callable[..., Any])
ANSWERS = "openapi_answers"  # attribute of a dependency: the responses it may give
SENDS = "openapi_sends"  # and the headers it adds to the operation's own answer
# A header a client may send: documented as a string (absent is not a value one can send).
OptionalHeader = Annotated[str | None, WithJsonSchema({"type": "string"})]


def visible(item: R, principal: Principal) -> R:
    """The item as this caller may see it: private fields only for readers and above."""
    return item if principal.can(Access.read) else item.hide_private()


def representation_tag(tag: str, shown: Record, principal: Principal) -> str:
    """The ETag of the record as this caller sees it (RFC 9110: one tag per representation).

    Readers' tag names the record's version (`tag`). The public one is a digest of what
    anonymous callers see, so that an edit of private fields only, which moves the version,
    leaves it as it was: a new public tag would tell everyone that something hidden changed.
    It is weak: the public body's `version` and `updated_at` move with such an edit too, and
    the tag leaves them out.
    """
    return f'"{tag}-private"' if principal.can(Access.read) else f'W/"{public_tag(shown)}"'


def tagged(response: Response, tag: str, shown: R, principal: Principal) -> R:
    """A written record's answer with the ETag a GET would give it: the client's next
    If-Match needs no GET first."""
    response.headers["ETag"] = representation_tag(tag, shown, principal)
    return shown


def written(response: Response, record: Tracked, shape: type[R], principal: Principal) -> R:
    """A created or changed record in its API shape, `tagged`."""
    return tagged(response, record_tag(record), shape.model_validate(record), principal)


def public_tag(shown: Record) -> str:
    data = shown.hide_private().model_dump(mode="json", exclude={"version", "updated_at"})
    text = json.dumps([type(shown).__name__, data], sort_keys=True, separators=(",", ":"))
    return f"public-{hashlib.sha256(text.encode()).hexdigest()[:32]}"


class IfMatch:
    """The If-Match header of a request that changes or deletes one record."""

    def __init__(self, header: str | None) -> None:
        self.header = header

    def check(
        self, tag: str, principal: Principal, shown: Record, changes: BaseModel | None = None
    ) -> None:
        """412 when the client edits a version other than the current one (RFC 9110 If-Match).

        Either view's tag may be sent: a writer may have read the record anonymously. The
        private tag names the version, so any edit since makes it stale. The public tag
        vouches for the public fields only (W/ is ignored here, unlike RFC 9110's strong
        comparison): it still matches after an edit of private fields, which its holder never
        saw and so cannot have based its change on; but not for `changes` that write private
        fields, which would overwrite notes the sender never read.
        """
        if self.header is None:
            return
        held = _tags(self.header)
        current = {f'"{tag}-private"'}
        if changes is None or not changes.model_fields_set & PRIVATE_FIELDS:
            current.add(f'"{public_tag(shown)}"')
        if "*" not in held and not held & current:
            raise PreconditionFailed(
                f"the record changed since you read it: it is now at ETag "
                f"{representation_tag(tag, shown, principal)}; "
                "fetch it again and reapply your change"
            )


class IfNoneMatch:
    """The If-None-Match header of a request that reads one record."""

    def __init__(self, header: str | None) -> None:
        self.header = header

    def answer(
        self, response: Response, tag: str, principal: Principal, body: Callable[[], R]
    ) -> R | Response:
        """304 when the client already holds this version, else the body with its ETag."""
        shown = body()
        etag = representation_tag(tag, shown, principal)
        held = _tags(self.header)
        if etag.removeprefix("W/") in held or "*" in held:
            return Response(status_code=304, headers={"ETag": etag})
        response.headers["ETag"] = etag
        return shown


def answers(
    responses: dict[int | str, dict[str, Any]], sends: tuple[str, ...] = ()
) -> Callable[[D], D]:
    """Mark a dependency with the answers it may give and the headers it adds to the
    operation's own (not to a 204); api/openapi.py documents them on every operation that
    depends on it (FastAPI documents its parameters itself)."""

    def mark(dependency: D) -> D:
        setattr(dependency, ANSWERS, responses)
        setattr(dependency, SENDS, sends)
        return dependency

    return mark


def header(name: str) -> dict[str, str]:
    """A response header of the OpenAPI document's components (api/openapi.HEADERS)."""
    return {"$ref": f"#/components/headers/{name}"}


def located(status: int, *also: str) -> dict[int | str, dict[str, Any]]:
    """A route's own answer (`status`) when it makes something: the Location where it can be
    read, and `also` these headers."""
    headers = {name: header(name) for name in ("Location", *also)}
    return {status: {"description": HTTPStatus(status).phrase, "headers": headers}}


CREATED = located(201, "ETag")  # a record: where it is, and its tag
LOCATED = located(201)  # a key, a subscription: where they are listed or read
QUEUED = located(202)  # a delivery: where to see how it went


@answers(problems.documented(412), sends=("ETag",))
def get_if_match(
    header: Annotated[
        OptionalHeader,
        Header(alias="If-Match", description="The ETag you read: 412 if the record changed."),
    ] = None,
) -> IfMatch:
    return IfMatch(header)


@answers(
    {
        304: {
            "description": "Not Modified: your copy is current.",
            "headers": {"ETag": header("ETag")},
        }
    },
    sends=("ETag",),
)
def get_if_none_match(
    header: Annotated[
        OptionalHeader,
        Header(alias="If-None-Match", description="An ETag you hold: 304 if still current."),
    ] = None,
) -> IfNoneMatch:
    return IfNoneMatch(header)


IfMatchDep = Annotated[IfMatch, Depends(get_if_match)]
IfNoneMatchDep = Annotated[IfNoneMatch, Depends(get_if_none_match)]


def page(
    request: Request, response: Response, items: Sequence[T], total: int, params: PageParams
) -> Page[T]:
    """The list envelope, with its Link header."""
    link_pages(request, response, total, params)
    return Page[T](items=list(items), total=total, limit=params.limit, offset=params.offset)


def link_pages(request: Request, response: Response, total: int, params: PageParams) -> None:
    """first/prev/next/last links to the pages of a list in the Link header (RFC 8288)."""
    last = max((total - 1) // params.limit * params.limit, 0)
    links = {"first": 0}
    if params.offset > 0:
        links["prev"] = min(max(params.offset - params.limit, 0), last)
    if params.offset + params.limit < total:
        links["next"] = params.offset + params.limit
    links["last"] = last
    response.headers["Link"] = ", ".join(
        f'<{request.url.include_query_params(offset=offset, limit=params.limit)}>; rel="{rel}"'
        for rel, offset in links.items()
    )


def record_tag(record: Tracked) -> str:
    """A tracked record's version tag: its table, id and version (`vote-7-v3`)."""
    return f"{record.__tablename__}-{record.id}-v{record.version}"


def _tags(header: str | None) -> set[str]:
    if not header:
        return set()
    # A tag read through the public cache may name an encoding of the bytes: the same record.
    return {identity_tag(t.strip().removeprefix("W/")) for t in header.split(",")}
