"""The public cache (http/public_cache.py): anonymous reads answered from kept bytes, per
data version, compressed once, with strong ETags and 304s; everyone else answered fresh."""

import asyncio
import base64
import gzip
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import brotli
import itsdangerous
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session
from starlette.types import Message

from optout_tracker import data_version
from optout_tracker.enums import Scope
from optout_tracker.http import public_cache
from optout_tracker.http.public_cache import CACHE_CONTROL, Entry, PublicCache, Store
from optout_tracker.main import SESSION_COOKIE, create_app
from optout_tracker.security import CLI
from optout_tracker.services import accounts
from tests import factories
from tests.conftest import Credentials, DatabaseFactory, make_settings
from tests.test_pages import sign_in

API = "/api/v1"
STRONG = re.compile(r'"[0-9a-f]{32}(?:-gzip|-br)?"')
IDENTITY = {"Accept-Encoding": "identity"}


@pytest.mark.parametrize(
    "path", ["/", "/jurisdictions?state=CA", "/activity", "/agencies", "/agencies/1"]
)
def test_a_second_anonymous_read_is_served_from_the_cache(
    client: TestClient, count_queries: Callable[[], Any], path: str
) -> None:
    first = client.get(path)
    assert first.status_code == 200
    with count_queries() as q:
        second = client.get(path)
    assert q.count <= 1, q.statements  # the data version's read, nothing else
    assert second.content == first.content
    assert second.headers["etag"] == first.headers["etag"]
    assert STRONG.fullmatch(second.headers["etag"])
    assert second.headers["cache-control"] == CACHE_CONTROL.decode()
    assert "Accept-Encoding" in second.headers["vary"]
    assert "Authorization, X-API-Key, Cookie" in second.headers["vary"]
    # The security headers are on kept answers too.
    assert "frame-ancestors 'none'" in second.headers["content-security-policy"]
    assert second.headers["x-frame-options"] == "DENY"
    assert second.headers["x-content-type-options"] == "nosniff"
    assert "set-cookie" not in second.headers


def test_a_held_copy_gets_304_without_a_body(client: TestClient) -> None:
    for path in ("/", f"{API}/status/by-fips", "/map.png"):
        etag = client.get(path).headers["etag"]
        again = client.get(path, headers={"If-None-Match": f'"other", {etag}'})
        assert again.status_code == 304 and again.content == b"", path
        assert again.headers["etag"] == etag
        assert again.headers["cache-control"] == CACHE_CONTROL.decode()
        assert "content-security-policy" in again.headers
        assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


def raw(client: TestClient, path: str, encoding: str) -> tuple[bytes, dict[str, str]]:
    """The body as sent, not decoded, and the headers."""
    with client.stream("GET", path, headers={"Accept-Encoding": encoding}) as r:
        assert r.status_code == 200
        return b"".join(r.iter_raw()), dict(r.headers)


@pytest.mark.parametrize("path", ["/", f"{API}/status/summary", "/states/CA"])
def test_each_encoding_is_a_representation_of_the_same_bytes(client: TestClient, path: str) -> None:
    plain, plain_headers = raw(client, path, "identity")
    gzipped, gzip_headers = raw(client, path, "gzip")
    brotlied, br_headers = raw(client, path, "gzip, deflate, br")
    assert "content-encoding" not in plain_headers
    assert gzip_headers["content-encoding"] == "gzip" and br_headers["content-encoding"] == "br"
    assert gzip.decompress(gzipped) == plain == brotli.decompress(brotlied)
    assert int(br_headers["content-length"]) == len(brotlied)
    tags = {h["etag"] for h in (plain_headers, gzip_headers, br_headers)}
    assert len(tags) == 3  # one per representation
    assert gzip_headers["etag"] == plain_headers["etag"][:-1] + '-gzip"'
    assert all("Accept-Encoding" in h["vary"] for h in (plain_headers, gzip_headers, br_headers))
    # Asked again, the same bytes: made once.
    assert raw(client, path, "br;q=1, gzip;q=0.5")[0] == brotlied
    assert raw(client, path, "gzip, br;q=0")[0] == gzipped


def test_head_is_answered_as_get_without_the_body(client: TestClient) -> None:
    got = client.get("/", headers=IDENTITY)
    head = client.head("/", headers=IDENTITY)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == got.headers["etag"]
    assert head.headers["content-length"] == str(len(got.content))


def test_a_record_keeps_its_own_etag_and_if_match_takes_it_from_any_encoding(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    santa_clara = factories.jurisdiction(session)
    session.commit()
    url = f"{API}/jurisdictions/{santa_clara.id}"
    tag = client.get(url, headers=IDENTITY).headers["etag"]
    assert tag.startswith('W/"public-')  # the route's: it vouches for the public fields
    assert client.get(url, headers={"If-None-Match": tag}).status_code == 304
    compressed = tag[:-1] + '-br"'  # what a larger record's tag is, read in Brotli
    write = credentials.headers("write")
    changed = client.patch(
        url,
        json={"public_notes": "Board meets Tuesdays"},
        headers={**write, "If-Match": compressed},
    )
    assert changed.status_code == 200
    assert client.get(url, headers={"If-None-Match": tag}).status_code == 200  # it changed


@pytest.fixture
def fresh_url(databases: DatabaseFactory) -> Iterator[str]:
    """A database of its own, migrated and seeded: the test commits for real."""
    yield databases.new_seeded_url()


def test_a_write_in_another_process_changes_what_every_process_answers(fresh_url: str) -> None:
    """Two apps on one database, each with its own cache and connections, as two processes:
    a write through one changes the ETag and the body the other answers next."""
    reader_app, writer_app = (
        create_app(make_settings(fresh_url)),
        create_app(make_settings(fresh_url)),
    )
    with Session(writer_app.state.engine) as s:
        _, token = accounts.create_api_key(s, "writer", Scope.write, CLI)
        santa_clara = factories.jurisdiction(s)
        s.commit()
        jurisdiction_id, slug = santa_clara.id, santa_clara.slug
    try:
        with TestClient(reader_app) as reader, TestClient(writer_app) as writer:
            paths = ["/", f"{API}/status/summary", f"/jurisdictions/{slug}"]
            before = {p: reader.get(p) for p in paths}
            assert all(reader.get(p).headers["etag"] == before[p].headers["etag"] for p in paths)
            vote = {
                "jurisdiction_id": jurisdiction_id,
                "body": "Board of Supervisors",
                "held_on": "2010-09-28",
                "measure": "Request to opt out of Secure Communities",
                "outcome": "passed",
                "yes": 5,
                "no": 0,
            }
            r = writer.post(f"{API}/votes", json=vote, headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 201, r.text
            for p in paths:
                after = reader.get(p)
                assert after.headers["etag"] != before[p].headers["etag"], p
                assert after.content != before[p].content, p
            assert reader.get(f"{API}/status/summary").json() != before[paths[1]].json()
            # An import writes in bulk, past the flush: it moves the version too.
            before = {p: reader.get(p) for p in paths}
            csv = (
                "jurisdiction_id,body,held_on,outcome,measure\r\n"
                f"{jurisdiction_id},Board of Supervisors,2011-03-01,passed,Resolution 11-2\r\n"
            )
            r = writer.post(
                f"{API}/import/votes", content=csv.encode(),
                headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
            )  # fmt: skip
            assert r.status_code == 200 and r.json()["created"] == 1, r.text
            dossier = f"/jurisdictions/{slug}"  # the one answer the new vote changes
            assert reader.get(dossier).headers["etag"] != before[dossier].headers["etag"]
            assert "Resolution 11-2" in reader.get(dossier).text
    finally:
        reader_app.state.engine.dispose()
        writer_app.state.engine.dispose()


def test_a_rolled_back_write_leaves_the_version_and_a_commit_replaces_it(
    session: Session,
) -> None:
    before = data_version.current(session)
    factories.vote(session, factories.jurisdiction(session))
    pending = data_version.current(session)  # uncommitted: a token that names nothing kept
    assert pending != before and data_version.current(session) != pending
    session.rollback()
    assert data_version.current(session) == before
    factories.vote(session, factories.jurisdiction(session))
    session.commit()
    assert data_version.current(session) != before


def test_a_signed_in_reader_is_answered_fresh_and_never_kept(
    client: TestClient, session: Session, credentials: Credentials, count_queries: Callable[[], Any]
) -> None:
    santa_clara = factories.jurisdiction(session)
    session.commit()
    dossier = f"/jurisdictions/{santa_clara.slug}"
    anonymous = client.get(dossier)
    sign_in(client, credentials, "viewer")
    for path in (dossier, "/states/CA"):  # one kept already, one not yet
        signed_in = client.get(path)
        assert signed_in.status_code == 200 and "viewer@example.org" in signed_in.text
        assert signed_in.headers["cache-control"] == "private, no-store"
        assert "Authorization, X-API-Key, Cookie" in signed_in.headers["vary"]
    keyed = client.get(f"{API}/jurisdictions/{santa_clara.id}", headers=credentials.headers("read"))
    assert keyed.headers["cache-control"] == "private, no-store"
    assert keyed.headers["etag"].endswith('-private"')
    client.cookies.clear()
    assert client.get(dossier).headers["etag"] == anonymous.headers["etag"]
    with count_queries() as q:
        state = client.get("/states/CA")  # rendered now: the signed-in answer was not kept
    assert q.count > 1 and "viewer@example.org" not in state.text
    public = client.get(f"{API}/jurisdictions/{santa_clara.id}")
    assert public.headers["etag"].startswith('W/"public-')


def test_a_flash_message_is_never_kept_nor_answered_from_the_cache(
    client: TestClient, session: Session
) -> None:
    santa_clara = factories.jurisdiction(session)
    session.commit()
    dossier = f"/jurisdictions/{santa_clara.slug}"
    kept = client.get(dossier)
    # A visitor whose session holds a flash message (the page after a form).
    settings = client.app.state.settings  # type: ignore[attr-defined]
    data = base64.b64encode(json.dumps({"flash": "Vote saved."}).encode())
    cookie = itsdangerous.TimestampSigner(settings.secret_key).sign(data).decode()
    flashed = client.get(dossier, headers={"Cookie": f"{SESSION_COOKIE}={cookie}"})
    assert "Vote saved." in flashed.text
    assert flashed.headers["cache-control"] == "private, no-store"
    assert "set-cookie" in flashed.headers  # the message is shown once
    client.cookies.clear()
    after = client.get(dossier)
    assert "Vote saved." not in after.text
    assert after.headers["etag"] == kept.headers["etag"]


def test_as_of_and_layer_are_entries_of_their_own(
    client: TestClient, count_queries: Callable[[], Any]
) -> None:
    paths = ["/", "/?as_of=2011-06-30", "/?layer=rollout", f"{API}/status/by-fips?as_of=2011-06-30"]
    first = {p: client.get(p) for p in paths}
    assert len({r.headers["etag"] for r in first.values()}) == len(paths)
    assert first["/"].content != first["/?as_of=2011-06-30"].content
    assert first["/"].content != first["/?layer=rollout"].content
    for p in paths:
        with count_queries() as q:
            again = client.get(p)
        assert q.count <= 1 and again.headers["etag"] == first[p].headers["etag"], p


def test_an_error_is_not_kept(client: TestClient) -> None:
    for _ in range(2):
        r = client.get("/jurisdictions/ca-nowhere-county")
        assert r.status_code == 404 and "cache-control" not in r.headers
    assert client.get(f"{API}/jurisdictions/999999").status_code == 404


def test_the_store_holds_no_more_than_its_bound() -> None:
    store = Store(max_bytes=20_000)
    html = [(b"content-type", b"text/html; charset=utf-8")]
    for i in range(30):
        store.put(("/", i), Entry.of((1, None), html, bytes(3_000)))
        assert store.bytes <= store.max_bytes
    assert len(store.entries) == 5 and ("/", 29) in store.entries
    assert store.get(("/", 25)) is not None  # used: now the last to go
    store.put(("/", 30), Entry.of((1, None), html, bytes(3_000)))
    assert ("/", 25) in store.entries and ("/", 26) not in store.entries
    grown = store.get(("/", 30))
    assert grown is not None
    grown.bodies["gzip"] = bytes(6_000)
    store.grew(("/", 30), grown)
    assert store.bytes <= store.max_bytes and store.bytes == sum(
        s for _, s in store.entries.values()
    )
    store.put(("/", 30), Entry.of((2, None), html, bytes(3_000)))  # a new generation's
    assert store.bytes == sum(s for _, s in store.entries.values())


class SlowPage:
    """An ASGI app whose page says which data version it was rendered from, and whose
    renders the test holds until it releases them."""

    def __init__(self) -> None:
        self.version = 1
        self.renders = 0
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.renders += 1
        version = self.version
        await self.release.wait()
        body = f"version {version}".encode()
        headers = [(b"content-type", b"text/plain"), (b"content-length", b"9")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def get(cache: PublicCache, path: str = "/") -> tuple[int, bytes]:
    scope = {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    await cache(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def slow_cache() -> tuple[PublicCache, SlowPage]:
    page = SlowPage()
    cache = PublicCache(page, Store(1_000_000), SESSION_COOKIE)

    async def version() -> int:
        return page.version

    cache.version = version  # type: ignore[assignment]
    return cache, page


def test_while_a_new_version_renders_others_are_answered_from_the_last_one() -> None:
    async def scenario() -> None:
        cache, page = slow_cache()
        assert await get(cache) == (200, b"version 1")
        page.version = 2
        page.release.clear()
        first = asyncio.ensure_future(get(cache))  # renders version 2, held
        await asyncio.sleep(0.01)
        assert not first.done() and page.renders == 2
        # Meanwhile the crowd is answered at once from version 1, and renders nothing.
        assert [await get(cache) for _ in range(5)] == [(200, b"version 1")] * 5
        assert page.renders == 2
        page.release.set()
        assert await first == (200, b"version 2")
        assert await get(cache) == (200, b"version 2")  # alone: always what is current
        assert page.renders == 2

    asyncio.run(scenario())


def test_past_the_grace_or_with_nothing_kept_a_reader_waits_for_the_render(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def scenario() -> None:
        cache, page = slow_cache()
        page.release.clear()
        first = asyncio.ensure_future(get(cache))
        await asyncio.sleep(0.01)
        second = asyncio.ensure_future(get(cache))  # nothing kept yet: it waits
        await asyncio.sleep(0.01)
        assert not second.done()
        page.release.set()
        assert await first == await second == (200, b"version 1")
        assert page.renders == 1

        monkeypatch.setattr(public_cache, "GRACE", 0.0)
        page.version = 2
        page.release.clear()
        third = asyncio.ensure_future(get(cache))
        await asyncio.sleep(0.01)
        fourth = asyncio.ensure_future(get(cache))  # version 1 is past its grace: it waits
        await asyncio.sleep(0.01)
        assert not fourth.done()
        page.release.set()
        assert await third == await fourth == (200, b"version 2")

    asyncio.run(scenario())


def test_the_cache_of_an_app_holds_its_bound(client: TestClient) -> None:
    store: Store = client.app.state.public_cache  # type: ignore[attr-defined]
    store.max_bytes = 2_000_000
    for path in [
        "/",
        "/?as_of=2011-06-30",
        "/?layer=rollout",
        f"{API}/status/by-fips",
        "/timeline",
    ]:
        assert client.get(path).status_code == 200
        assert store.bytes <= store.max_bytes
    assert store.entries


def test_kept_values_are_of_one_data_version_and_bounded() -> None:
    kept: data_version.Kept[str, int] = data_version.Kept(most=2)
    kept.put(1, "a", 10)
    kept.put(1, "b", 11)
    assert kept.get(1, "a") == 10  # used: "b" is now the least recent
    kept.put(1, "c", 12)
    assert (kept.get(1, "a"), kept.get(1, "b"), kept.get(1, "c")) == (10, None, 12)
    assert kept.get(2, "a") is None  # another version's reader finds nothing of version 1
    kept.put(2, "a", 20)  # and what it keeps replaces version 1's
    assert (kept.get(1, "a"), kept.get(1, "c"), kept.get(2, "a")) == (None, None, 20)
    kept.clear()
    assert kept.get(2, "a") is None
