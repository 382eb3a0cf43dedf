"""HTTP conventions of the API: pages with a Link header, ETags with conditional GET."""

from collections.abc import Callable, Sequence
from typing import TypeVar

from fastapi import Request, Response
from pydantic import BaseModel

from ..enums import Access
from ..errors import PreconditionFailed
from ..schemas import Page, PageParams, Record
from ..security import Principal

T = TypeVar("T", bound=BaseModel)
R = TypeVar("R", bound=Record)


def visible(item: R, principal: Principal) -> R:
    """The item as this caller may see it: private fields only for readers and above."""
    return item if principal.can(Access.read) else item.hide_private()


def representation_tag(tag: str, principal: Principal) -> str:
    """The record's tag, told apart by what this caller sees (RFC 9110: one tag, one body)."""
    return f"{tag}-private" if principal.can(Access.read) else f"{tag}-public"


def check_if_match(request: Request, tag: str, principal: Principal) -> None:
    """412 when the client edits a version other than the current one (RFC 9110 If-Match).

    Either view's tag names the current version: a writer may have read it anonymously.
    """
    header = request.headers.get("if-match")
    if header is None:
        return
    held = _tags(header)
    current = {f'"{tag}-public"', f'"{tag}-private"'}
    if "*" not in held and not held & current:
        raise PreconditionFailed(
            f"the record changed since you read it: it is now at ETag "
            f'"{representation_tag(tag, principal)}"; fetch it again and reapply your change'
        )


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


def conditional(
    request: Request, response: Response, tag: str, principal: Principal, body: Callable[[], T]
) -> T | Response:
    """Answer 304 when the client already holds this version, else the body with its ETag."""
    etag = f'"{representation_tag(tag, principal)}"'
    held = _tags(request.headers.get("if-none-match"))
    if etag in held or "*" in held:
        return Response(status_code=304, headers={"ETag": etag})
    response.headers["ETag"] = etag
    return body()


def record_tag(table: str, record_id: int | None, version: int) -> str:
    return f"{table}-{record_id}-v{version}"


def _tags(header: str | None) -> set[str]:
    if not header:
        return set()
    return {t.strip().removeprefix("W/") for t in header.split(",")}
