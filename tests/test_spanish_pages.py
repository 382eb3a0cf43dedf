"""Every page in Spanish says nothing of the English catalog: each page the site serves,
rendered with `lang=es` (signed in as an admin, who sees every page and control), holds no
run of words of the catalog's English whose Spanish differs, outside what the records say
(the shipped history is English, as its sources are: a title, a measure, a note). Every
page the site routes is visited: a new page is checked without being listed."""

import re
from collections.abc import Iterator
from functools import cache
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlmodel import AutoString, Session, SQLModel

from optout_tracker.config import Settings
from optout_tracker.history import load_history
from optout_tracker.i18n import CATALOGS, DOMAIN
from optout_tracker.services import mail
from tests.conftest import Credentials
from tests.test_access import Records, records  # noqa: F401 (the fixture)
from tests.test_pages import sign_in

# Not pages: machine formats (their words are checked in test_languages), the API's docs
# (Swagger UI and ReDoc speak English), and probes.
NOT_PAGES = {
    "/healthz", "/readyz", "/metrics", "/map.png", "/letters/{letter_id}.pdf",
    "/feeds/activity.atom", "/feeds/jurisdictions/{slug}.atom", "/calendar.ics",
    "/docs", "/redoc", "/logout",
}  # fmt: skip
MARKUP = re.compile(r"\{\w*\}|%\(\w+\)[sd]|<[^>]*>|&\w+;")


@cache
def english_messages() -> tuple[frozenset[str], frozenset[str]]:
    """What of the catalog's English Spanish says otherwise: runs of three words or more of
    each message (its placeholders and markup cut it into runs), and the short messages
    whole ("Today", "Day"), which a page would show as a text or a label of their own."""
    with (CATALOGS / "es" / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as f:
        catalog = read_po(f)
    runs, whole = set(), set()
    for message in catalog:
        if not message.id:
            continue
        english = [str(t) for t in (message.id if isinstance(message.id, tuple) else (message.id,))]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        spanish = " ".join(str(s) for s in strings)
        for text in english:
            if text != spanish and not MARKUP.search(text) and re.search("[A-Za-z]{2}", text):
                whole.add(" ".join(text.split()))
            for run in MARKUP.split(text):
                run = " ".join(run.split())
                if len(re.findall(r"[A-Za-z]+", run)) >= 3 and run not in spanish:
                    runs.add(run)
    return frozenset(runs), frozenset(whole)


class Said(HTMLParser):
    """A page's text and the attributes people meet (labels, titles, placeholders), without
    scripts, styles, preformatted data (a webhook's JSON) or parts marked as in another
    language (`lang="en"`: the letter as sent, WCAG's language of parts)."""

    SKIPPED = {"script", "style", "pre"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
    READ = {"alt", "aria-label", "placeholder", "title"}  # and a button's value
    BUTTONS = {"button", "reset", "submit"}
    SHARED = {"description", "og:title", "og:description", "twitter:title", "twitter:description"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[bool] = []  # per open element: whether its content is skipped
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        skipped = bool(self.open and self.open[-1]) or tag in self.SKIPPED
        skipped = skipped or found.get("lang", "es") != "es"
        if not skipped:
            self.parts.extend(v for k, v in attrs if k in self.READ and v)
            if tag == "input" and found.get("type") in self.BUTTONS and found.get("value"):
                self.parts.append(found["value"] or "")
            named = found.get("name") or found.get("property")
            if tag == "meta" and named in self.SHARED and found.get("content"):
                self.parts.append(found["content"] or "")  # what a shared link previews
        if tag not in self.VOID:
            self.open.append(skipped)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.open.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.open:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        if not (self.open and self.open[-1]):
            self.parts.append(data)


def said(page: str) -> tuple[str, set[str]]:
    """What a Spanish reader meets on the page, white space collapsed: all of it, and each
    text and label on its own."""
    parser = Said()
    parser.feed(page)
    parts = {" ".join(p.split()) for p in parser.parts}
    return " ".join(" ".join(parser.parts).split()), parts


def record_texts(session: Session) -> list[str]:
    """Every text the records hold (names, titles, measures, notes)."""
    found: set[str] = set()
    for table in SQLModel.metadata.sorted_tables:
        for column in table.c:
            if isinstance(column.type, sa.String | AutoString):  # Text too
                texts = session.scalars(sa.select(column).distinct())
                found.update(" ".join(t.split()) for t in texts if isinstance(t, str))
    return sorted(found)


def left_in(text: str, run: str, texts: list[str]) -> bool:
    """Whether `run` appears in `text` outside every record's text that holds it there."""
    holders = [r for r in texts if run in r]
    covered = [
        (m.start(), m.start() + len(r)) for r in holders for m in re.finditer(re.escape(r), text)
    ]
    return any(
        not any(start <= m.start() and m.end() <= end for start, end in covered)
        for m in re.finditer(re.escape(run), text)
    )


def page_paths(app: FastAPI) -> Iterator[str]:
    for context in iter_route_contexts(app.routes):
        route, path = context.original_route, context.path or ""
        if (
            isinstance(route, APIRoute)
            and "GET" in (context.methods or ())
            and route.endpoint.__module__.startswith("optout_tracker.web.")
            and path not in NOT_PAGES
        ):
            yield path


@pytest.fixture
def spanish_admin(
    client: TestClient,
    session: Session,
    credentials: Credentials,
    records: Records,  # noqa: F811
) -> tuple[TestClient, Records]:
    load_history(session, 30)
    session.commit()
    sign_in(client, credentials, "admin")
    assert client.get("/?lang=es").headers["content-language"] == "es"
    return client, records


def test_every_page_in_spanish_is_free_of_the_english_catalog(
    spanish_admin: tuple[TestClient, Records], session: Session, app_settings: Settings
) -> None:
    client, found = spanish_admin
    slug = "ca-santa-clara-county"
    found.ids |= {
        "slug": slug,
        "code": "CA",
        "kind": "vote",
        "record_id": found.ids["vote_id"],
        "token": mail.unsubscribe_token(app_settings, follow_id=int(found.ids["follow_id"])),
    }
    (runs, whole), data = english_messages(), record_texts(session)
    assert len(runs) > 300 and len(whole) > 300  # the catalog was read
    paths = sorted(set(page_paths(client.app)))  # type: ignore[arg-type]
    assert len(paths) >= 25, paths
    dossier = f"/jurisdictions/{slug}"
    extra = ["/jurisdictions?status=denied", f"{dossier}?as_of=2011-01-01", "/?layer=rollout",
             "/?view=states", "/timeline?state=CA", f"{dossier}/log/letter",
             f"{dossier}/log/response"]  # fmt: skip
    leaks = {}
    for path in [found.url(p) for p in paths] + extra:
        r = client.get(path)
        assert r.status_code == 200, (path, r.status_code)
        assert r.headers["content-language"] == "es", path
        text, parts = said(r.text)
        left = {s for s in runs if s in text and left_in(text, s, data)}
        left |= (parts & whole) - set(data)
        if left:
            leaks[path] = sorted(left)
    assert not leaks, f"English left on Spanish pages: {leaks}"
