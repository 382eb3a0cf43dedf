"""Public reads at the cost of a static file: anonymous answers kept as bytes per data version.

ASGI middleware rather than a route dependency: a hit costs no routing, no dependencies, no
session cookie and no template, only the data version's read (one primary-key read, see
data_version.py, shared by the requests that come while it waits: coalesced.py) and a dict
lookup, and the routes stay as they are. main.py places it inside SecurityHeaders, whose
headers go on every answer, kept or not, and outside GZipMiddleware: a kept answer is
compressed here, once per encoding, never again there.

What is kept: GET (HEAD arrives as a GET: middleware.HeadAsGet) of the paths PUBLIC matches,
asked by a caller anonymous by the request alone: no Authorization or X-API-Key header and no
session cookie. Everyone else (a signed-in user, a key, a visitor whose session holds
anything, such as the flash message of a form just sent) goes past, to the app, which
answers them fresh; SecurityHeaders marks a known caller's answer private. Of what the app
answers, only a 200 without Set-Cookie and not marked private or no-store is kept.

An entry is kept per location: the locale, the scheme and host (pages link their assets
absolutely), the path and the whole query string; it holds the generation it was rendered
in: the data version and today's date (today's statuses change at midnight). The version is
read before the app reads any data, so an entry is never older than its generation says (at
worst newer). A request of the entry's generation is answered from it.

Once the data changes, the first request for a location renders it again (a fill), and only
one fill per location runs at a time: whoever asks meanwhile is answered from the entry of
the generation before, as a proxy's grace mode does, for at most GRACE seconds after a
request first found the entry superseded; past that, or with no entry yet, they wait for the
fill. So a reader is answered at once however often the data changes (organizers entering
votes while a crowd reads the map), a reader who asks alone is always answered fresh, and
the CPU renders each location at most once at a time instead of once per waiting reader of
each new version.

An entry holds the identity bytes, and each encoding made from them the first time a client
asks for it (gzip, or Brotli where the client accepts `br`). Each is its own representation,
with its own ETag: the route's own when it sets one (a record's, which If-Match compares),
else a digest of the bytes; an encoding adds its suffix (`-gzip`, `-br`). `If-None-Match`
gets a 304. The entries are an LRU bounded in bytes. Only one request encodes a body at a
time; the others asking for it meanwhile wait for it.
"""

import asyncio
import gzip
import hashlib
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Any

import anyio.to_thread
import brotli
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import data_version, i18n, process_memory
from ..clock import today
from ..middleware import KNOWN_CALLER, PRIVATE_CACHE
from ..services import status_projection
from .coalesced import Coalesced

# The public reads: pages, the embedded map, the share card, feeds, the calendar and the
# JSON of the map and of jurisdictions. Whatever else a path names is answered fresh. (A
# page that needs a session, such as a form, never reaches the store: see _keepable.)
PUBLIC = re.compile(
    r"/(?:states/[^/]+|jurisdictions(?:/[^/]+)?|agencies(?:/\d+)?|responses/\d+|activity"
    r"|embed/map|timeline|map\.png|calendar\.ics"
    r"|feeds/activity\.atom|feeds/jurisdictions/[^/]+\.atom"
    r"|api/v1/status/(?:summary|by-fips)|api/v1/jurisdictions(?:/\d+(?:/timeline)?)?)?"
)
# Shared caches (a CDN, a proxy) and browsers may reuse an answer for a minute: a write then
# shows everywhere within a minute or two, and meanwhile a crowd (readers of a news story
# that links the map) costs the server nothing. For one more minute a CDN may answer at once
# with what it holds while it revalidates in the background with If-None-Match, which costs
# us one version read and a 304 unless the data changed, so no reader waits on that.
CACHE_CONTROL = b"public, max-age=60, stale-while-revalidate=60"
MIN_COMPRESSED = 1000  # bytes: below this, compression saves less than its headers cost
# Once per data version, so the smaller the better while it stays well under a second. The
# map page (770 KB) gzips to 187 KB at 9 (190 KB at 6), and Brotli makes 172 KB of it at 9
# in about 0.2 s (8: 175 KB; 10: 156 KB but 2 s; 11: 5 s).
GZIP_LEVEL = 9
BROTLI_QUALITY = 9
COMPRESSIBLE = re.compile(rb"text/|application/(?:[\w.+-]*\+)?(?:json|xml)|image/svg\+xml")
IDENTITY = "identity"
# Seconds a superseded entry may still answer while its location is rendered again: far
# above a render (the map page takes a fifth of a second, a few under load), far below the
# minute that shared caches may keep any answer anyway.
GRACE = 10.0
# Fills rendering at once. A render is Python holding the GIL for up to a fifth of a second;
# several at once only share the GIL, each slower, and starve everything else of it: under
# a load test of reads and writes, a write then held SQLite's write lock across its thread
# hops for half a second while others queued for it.
RENDERS_AT_ONCE = 1
CREDENTIALS = frozenset({b"authorization", b"x-api-key"})
# Request headers the app does not see when it renders an entry: an entry is the whole
# identity body, whatever the request that happened to ask first held.
UNASKED = frozenset({b"accept-encoding", b"if-none-match", b"if-modified-since", b"range"})
# Response headers of one representation, set per answer here; the app's are dropped.
PER_ANSWER = frozenset(
    {b"content-length", b"content-encoding", b"etag", b"cache-control", b"vary", b"date"}
)

Key = tuple[Any, ...]  # a location: locale, scheme, host, path, query string
Generation = tuple[int, Any]  # the data version and today's date
RawHeaders = list[tuple[bytes, bytes]]


def _gzip(body: bytes) -> bytes:
    return gzip.compress(body, GZIP_LEVEL, mtime=0)  # no time in it: the same bytes anywhere


def _brotli(body: bytes) -> bytes:
    return bytes(brotli.compress(body, quality=BROTLI_QUALITY))


ENCODERS: dict[str, Callable[[bytes], bytes]] = {"br": _brotli, "gzip": _gzip}


def locale(scope: Scope) -> str:
    """The language of the answer, part of the key: negotiated outside the cache
    (middleware.Languages), which also adds it to Vary."""
    return i18n.LOCALE.get()


def identity_tag(tag: str) -> str:
    """The tag of the identity bytes an encoded representation's tag was made from: what a
    route compares (If-Match) after a client read it through the cache."""
    for suffix in ENCODERS:
        if tag.endswith(f'-{suffix}"'):
            return tag.removesuffix(f'-{suffix}"') + '"'
    return tag


@dataclass(eq=False)
class Entry:
    """An answer kept: the generation it was rendered in, the app's headers for every
    representation, the tag of the identity bytes, and the bodies by encoding (identity
    first, the others as they are asked for)."""

    generation: Generation
    headers: RawHeaders
    tag: str
    compressible: bool
    bodies: dict[str, bytes]
    making: dict[str, "asyncio.Future[bytes]"] = field(default_factory=dict)
    superseded_at: float | None = None  # monotonic: when a request found it out of date

    @classmethod
    def of(cls, generation: Generation, headers: RawHeaders, body: bytes) -> "Entry":
        own = _header(headers, b"etag")
        tag = own.decode("latin-1") if own else f'"{hashlib.sha256(body).hexdigest()[:32]}"'
        kind = _header(headers, b"content-type") or b""
        compressible = len(body) >= MIN_COMPRESSED and bool(COMPRESSIBLE.match(kind))
        kept = [(name, value) for name, value in headers if name not in PER_ANSWER]
        return cls(generation, kept, tag, compressible, {IDENTITY: body})

    def graced(self, now: float) -> bool:
        """Whether this superseded entry may still answer while its location is rendered
        again: for GRACE seconds from the first request that asks this."""
        if self.superseded_at is None:
            self.superseded_at = now
        return now - self.superseded_at < GRACE

    @property
    def size(self) -> int:
        held = sum(len(n) + len(v) for n, v in self.headers)
        return sum(map(len, self.bodies.values())) + held + 500  # and the objects around them

    def etag(self, encoding: str) -> bytes:
        tag = self.tag if encoding == IDENTITY else f'{self.tag[:-1]}-{encoding}"'
        return tag.encode("latin-1")


class Store:
    """Entries by key, least recently used first, their bytes held under `max_bytes`."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self.entries: OrderedDict[Key, tuple[Entry, int]] = OrderedDict()

    def holds(self, size: int) -> bool:
        """Whether an answer of `size` bytes may be kept: not one that would push out most
        of the others (no public answer is near that big)."""
        return size <= self.max_bytes // 8

    def get(self, key: Key) -> Entry | None:
        found = self.entries.get(key)
        if found is None:
            return None
        self.entries.move_to_end(key)
        return found[0]

    def put(self, key: Key, entry: Entry) -> None:
        """Keep `entry`, or account for what it grew by since it was put."""
        self._drop(key)
        self.entries[key] = (entry, entry.size)
        self.bytes += entry.size
        while self.bytes > self.max_bytes:
            self._drop(next(iter(self.entries)))

    def grew(self, key: Key, entry: Entry) -> None:
        if (held := self.entries.get(key)) is not None and held[0] is entry:
            self.put(key, entry)

    def _drop(self, key: Key) -> None:
        if (held := self.entries.pop(key, None)) is not None:
            self.bytes -= held[1]


class PublicCache:
    """Anonymous public GETs answered from kept bytes (the module's docstring says how)."""

    def __init__(self, app: ASGIApp, store: Store, session_cookie: str) -> None:
        self.app = app
        self.store = store
        self.session_cookie = session_cookie
        self.filling: dict[Key, Fill] = {}
        self.rendering = asyncio.Semaphore(RENDERS_AT_ONCE)
        self.version: Coalesced[int] | None = None  # made at the first request, from its app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _public_read(scope):
            await self.app(scope, receive, send)
            return
        if not self._anonymous(scope):
            await self.app(scope, receive, _private_if_setting_cookie(send))
            return
        scope.setdefault("state", {})[KNOWN_CALLER] = False  # SecurityHeaders: Vary by caller
        if self.version is None:
            self.version = Coalesced(partial(read_version, scope["app"]))
        try:
            version = await self.version()
        except SQLAlchemyError:  # the app answers for it (a 503 when no connection is free)
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        where = (scope["scheme"], headers.get("host", ""), scope["path"], scope["query_string"])
        key = (locale(scope), *where)
        entry = await self._entry(key, (version, today()), scope, receive, send)
        if entry is not None:
            await self._answer(key, entry, headers, send)

    def _anonymous(self, scope: Scope) -> bool:
        """Whether the request is anonymous by itself: no credential, no session."""
        for name, value in scope["headers"]:
            if name in CREDENTIALS:
                return False
            if name == b"cookie" and self.session_cookie in cookie_parser(value.decode("latin-1")):
                return False
        return True

    async def _entry(
        self, key: Key, generation: Generation, scope: Scope, receive: Receive, send: Send
    ) -> Entry | None:
        """The entry that answers a request of `generation` for `key` (the module's docstring
        says which); None when the app's answer is not to be kept, and then it has been sent."""
        while True:
            entry = self.store.get(key)
            if entry is not None and entry.generation == generation:
                return entry
            fill = self.filling.get(key)
            if fill is None:
                return await self._fill(key, generation, scope, receive, send)
            if entry is not None and entry.graced(time.monotonic()):
                return entry
            made = await asyncio.shield(fill.made)
            if fill.generation != generation:
                continue  # it rendered an older version than this request read
            if made is None:  # not kept: each asker gets the app's own answer
                await self.app(scope, receive, send)
            return made

    async def _fill(
        self, key: Key, generation: Generation, scope: Scope, receive: Receive, send: Send
    ) -> Entry | None:
        fill = self.filling[key] = Fill(generation, asyncio.get_running_loop().create_future())
        entry = None
        try:
            async with self.rendering:
                entry = await self._render(key, generation, scope, receive, send)
        finally:
            del self.filling[key]
            fill.made.set_result(entry)
        # A render frees megabytes of the rows and strings it built; give the pages back
        # rather than keep them for the next render: a few milliseconds, in the loop's
        # executor, not awaited, so that neither this answer nor anyio's threads wait for it.
        asyncio.get_running_loop().run_in_executor(None, process_memory.give_back)
        return entry

    async def _render(
        self, key: Key, generation: Generation, scope: Scope, receive: Receive, send: Send
    ) -> Entry | None:
        asked = [(name, value) for name, value in scope["headers"] if name not in UNASKED]
        start: Message = {}
        chunks: list[bytes] = []

        async def collect(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app({**scope, "headers": asked}, receive, collect)
        body = b"".join(chunks)
        headers: RawHeaders = list(start.get("headers", []))
        if start.get("status") == 200 and self.store.holds(len(body)) and _keepable(headers):
            entry = Entry.of(generation, headers, body)
            self.store.put(key, entry)
            return entry
        await send(start)
        await send({"type": "http.response.body", "body": body})
        return None

    async def _answer(self, key: Key, entry: Entry, headers: Headers, send: Send) -> None:
        accepted = headers.get("accept-encoding", "")
        encoding = preferred_encoding(accepted) if entry.compressible else IDENTITY
        etag = entry.etag(encoding)
        sent = [(b"etag", etag), (b"cache-control", CACHE_CONTROL)]
        if entry.compressible:
            sent.append((b"vary", b"Accept-Encoding"))
        if _held(headers.get("if-none-match"), etag):
            await send({"type": "http.response.start", "status": 304, "headers": sent})
            await send({"type": "http.response.body", "body": b""})
            return
        body = await self._encoded(key, entry, encoding)
        if encoding != IDENTITY:
            sent.append((b"content-encoding", encoding.encode()))
        sent += [*entry.headers, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": sent})
        await send({"type": "http.response.body", "body": body})

    async def _encoded(self, key: Key, entry: Entry, encoding: str) -> bytes:
        """The entry's body in `encoding`, made once (in a worker thread: the map page takes
        a fifth of a second) however many ask for it meanwhile."""
        if (body := entry.bodies.get(encoding)) is not None:
            return body
        making = entry.making.get(encoding)
        if making is None:
            encode = ENCODERS[encoding]
            making = asyncio.ensure_future(anyio.to_thread.run_sync(encode, entry.bodies[IDENTITY]))
            entry.making[encoding] = making
        try:
            body = await asyncio.shield(making)
        finally:
            if making.done():
                entry.making.pop(encoding, None)
        if encoding not in entry.bodies:
            entry.bodies[encoding] = body
            self.store.grew(key, entry)
        return body


@dataclass
class Fill:
    """A location being rendered for a generation; `made` is the entry, or None when the
    app's answer was not to be kept."""

    generation: Generation
    made: "asyncio.Future[Entry | None]"


def _public_read(scope: Scope) -> bool:
    return (
        scope["type"] == "http"
        and scope["method"] == "GET"
        and PUBLIC.fullmatch(scope["path"]) is not None
    )


def _private_if_setting_cookie(send: Send) -> Send:
    """A public read's answer that sets a cookie is for its visitor alone: it showed their
    session's flash message, say, which no cache, shared or the browser's, may keep."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = message.get("headers", [])
            if any(name == b"set-cookie" for name, _ in headers):
                kept = [h for h in headers if h[0] != b"cache-control"]
                message["headers"] = [*kept, PRIVATE_CACHE]
        await send(message)

    return sending


def read_version(app: Any) -> int:
    """The data version, after today's statuses are current (the first request of a day
    derives again those the calendar moved, which changes the version)."""
    status_projection.keep_current(app.state.engine)
    with app.state.units(write=False) as session:
        return data_version.current(session)


@lru_cache(maxsize=64)  # clients send a handful of different headers
def preferred_encoding(accept_encoding: str) -> str:
    """Brotli, else gzip, else none, as the client's Accept-Encoding takes them (q > 0)."""
    weights: dict[str, float] = {}
    for part in accept_encoding.split(","):
        name, _, parameters = part.partition(";")
        weight = 1.0
        parameter = parameters.strip().lower()
        if parameter.startswith("q="):
            try:
                weight = float(parameter[2:])
            except ValueError:
                weight = 0.0
        weights[name.strip().lower()] = weight
    for encoding in ENCODERS:
        if weights.get(encoding, weights.get("*", 0.0)) > 0:
            return encoding
    return IDENTITY


def _keepable(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """Whether an answer may be kept for everyone: none that sets a cookie, is encoded
    already, or says it is private."""
    for name, value in headers:
        if name in (b"set-cookie", b"content-encoding"):
            return False
        if name == b"cache-control" and (b"private" in value or b"no-store" in value):
            return False
    return True


def _header(headers: RawHeaders, name: bytes) -> bytes | None:
    return next((value for n, value in headers if n == name), None)


def _held(if_none_match: str | None, etag: bytes) -> bool:
    """Whether If-None-Match names this representation (weak comparison, RFC 9110 13.1.2)."""
    if not if_none_match:
        return False
    mine = etag.decode("latin-1").removeprefix("W/")
    held = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return mine in held or "*" in held
