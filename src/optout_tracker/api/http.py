"""HTTP conventions of the API: pages with a Link header, ETags with conditional GET."""

from collections.abc import Callable, Sequence
from typing import TypeVar

from fastapi import Request, Response
from pydantic import BaseModel

from ..schemas import ListParams, Page

T = TypeVar("T", bound=BaseModel)


def page(
    request: Request, response: Response, items: Sequence[T], total: int, params: ListParams
) -> Page[T]:
    """The list envelope, with first/prev/next/last links in the Link header (RFC 8288)."""
    links = {"first": 0}
    if params.offset > 0:
        links["prev"] = max(params.offset - params.limit, 0)
    if params.offset + params.limit < total:
        links["next"] = params.offset + params.limit
    links["last"] = max((total - 1) // params.limit * params.limit, 0)
    response.headers["Link"] = ", ".join(
        f'<{request.url.include_query_params(offset=offset, limit=params.limit)}>; rel="{rel}"'
        for rel, offset in links.items()
    )
    return Page[T](items=list(items), total=total, limit=params.limit, offset=params.offset)


def conditional(
    request: Request, response: Response, tag: str, body: Callable[[], T]
) -> T | Response:
    """Answer 304 when the client already holds this version, else the body with its ETag."""
    etag = f'"{tag}"'
    if etag in _tags(request.headers.get("if-none-match")) or "*" in _tags(
        request.headers.get("if-none-match")
    ):
        return Response(status_code=304, headers={"ETag": etag})
    response.headers["ETag"] = etag
    return body()


def record_tag(table: str, record_id: int | None, version: int) -> str:
    return f"{table}-{record_id}-v{version}"


def _tags(header: str | None) -> set[str]:
    if not header:
        return set()
    return {t.strip().removeprefix("W/") for t in header.split(",")}
