"""Browser tests: the real app, served by uvicorn, in Debian's chromium driven by Playwright.

Fixtures for any `tests/browser/test_*.py`:

- `live_server` (session-scoped, once per backend: tests run on SQLite and PostgreSQL like the
  rest of the suite): a database of its own, a copy of the shared one that is migrated and
  seeded and holds the 2008–2014 history (tests/conftest.py), with an organizer and an
  admin, served by `create_app` with uvicorn on 127.0.0.1. Attributes: `base_url`,
  `backend`, `database_url`, `organizer` and `admin` (each an `Account` with `email`,
  `password`, `role`); `url(path)`; `sign_in(page, account, next="/")` signs in
  through the form. The database is shared by every test of the run on that backend, so a
  test that writes should make its own records rather than count on exact totals.
- `browser` (package-scoped): headless chromium (`shutil.which("chromium")`, never a
  downloaded browser). Missing chromium skips on a laptop and fails in CI (CI=true).
- `page`: a fresh browser context per test (no cookies carried over), desktop viewport
  1280×800, `base_url` set to the live server, so `page.goto("/login")` works.
- `phone_page`: the same at 390×844 with `is_mobile` and `has_touch`.
  Both save a screenshot at teardown to `artifacts/screenshots/<test name>[-phone].png`
  (the whole page, or the viewport of a page taller than TALLEST_FULL_PAGE_SHOT).
- `axe`: `axe(page, context=None, options=None) -> list[dict]` injects axe-core
  (node_modules/axe-core/axe.min.js, from `npm ci`; `make` runs it) and returns the
  violations of impact serious or critical; `assert not v, describe_violations(v)`
  (`from tests.browser.conftest import AxeCheck, LiveServer, describe_violations`).

Playwright's sync API marks its event loop as running in this thread while it is started,
which breaks `asyncio.run()` elsewhere; the browser is therefore package-scoped, so that
under xdist it is stopped before a worker goes on to tests outside tests/browser.

Run them: `make test` (with the rest), or `.venv/bin/python -m pytest tests/browser`.
"""

import os
import re
import shutil
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import quote
from uuid import uuid4

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy.engine import Engine

from optout_tracker.db import create_db_engine, unit_of_work
from optout_tracker.enums import Role
from optout_tracker.main import create_app
from optout_tracker.security import CLI
from optout_tracker.services import accounts
from tests.conftest import IN_CI, DatabaseFactory, copy_of_history, make_settings
from tests.live import serving

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "correct horse battery"
DESKTOP = {"width": 1280, "height": 800}
expect.set_options(timeout=15_000)  # the page's own timeouts below say why
PHONE = {"width": 390, "height": 844}
CHROMIUM_ARGS = [
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",  # containers often have a small /dev/shm
]
BLOCKING_IMPACTS = frozenset({"serious", "critical"})


def skip_or_fail(reason: str) -> NoReturn:
    """Skip on a laptop; in CI a browser test that cannot run is a failure."""
    if IN_CI:
        pytest.fail(f"{reason} (CI must run the browser tests)", pytrace=False)
    pytest.skip(reason)


@dataclass(frozen=True)
class Account:
    email: str
    password: str
    role: Role


@dataclass
class LiveServer:
    backend: str
    base_url: str
    database_url: str
    organizer: Account
    admin: Account

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def new_account(self, role: Role) -> Account:
        """An account of the test's own: a signed-in `?lang=` is kept on the account, and the
        shared ones must keep English for the other tests."""
        account = Account(f"{role.value}-{uuid4().hex[:12]}@example.org", PASSWORD, role)
        engine = create_db_engine(make_settings(self.database_url))
        try:
            with unit_of_work(engine) as session:
                accounts.create_user(session, account.email, role, PASSWORD, CLI)
        finally:
            engine.dispose()
        return account

    def sign_in(self, page: Page, account: Account, next: str = "/") -> None:
        """Sign in through the form, as a person would, and wait for the redirect."""
        page.goto(self.url(f"/login?next={quote(next)}"))
        page.get_by_label("Email").fill(account.email)
        page.get_by_label("Password").fill(account.password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(self.url(next))


def _prepare_database(url: str) -> tuple[Account, Account]:
    """Add the accounts to a copy of the history database."""
    organizer = Account("organizer@example.org", PASSWORD, Role.organizer)
    admin = Account("admin@example.org", PASSWORD, Role.admin)
    engine = create_db_engine(make_settings(url))
    try:
        with unit_of_work(engine) as session:
            for account in (organizer, admin):
                accounts.create_user(session, account.email, account.role, account.password, CLI)
    finally:
        engine.dispose()
    return organizer, admin


@pytest.fixture(scope="session")
def live_server(
    backend: str, databases: DatabaseFactory, history_engine: Engine
) -> Iterator[LiveServer]:
    url = copy_of_history(databases, history_engine)
    organizer, admin = _prepare_database(url)
    app = create_app(make_settings(url))
    try:
        with serving(app) as port:
            yield LiveServer(backend, f"http://127.0.0.1:{port}", url, organizer, admin)
    finally:
        app.state.engine.dispose()


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        skip_or_fail(
            "Debian's chromium is not installed (apt-get install chromium); "
            "the browser tests never download one"
        )
    args = list(CHROMIUM_ARGS)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")  # chromium refuses to start its sandbox as root
    # launch() gives chromium a fresh temporary profile (user-data dir), removed at close.
    browser = playwright.chromium.launch(executable_path=executable, headless=True, args=args)
    yield browser
    browser.close()


def _screenshot_path(request: pytest.FixtureRequest, suffix: str = "") -> Path:
    name = re.sub(r"[^\w.-]+", "-", request.node.name).strip("-")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}{suffix}.png"


# Past this height a full-page screenshot is no longer worth its cost: chromium spent its
# whole 30 s timeout on the phone's /timeline (24,870 px) and saved nothing, while the
# desktop /timeline (11,248 px) and the phone's /activity (10,187 px) take a second or so.
TALLEST_FULL_PAGE_SHOT = 12_000


def save_screenshot(page: Page, path: Path | str) -> None:
    """The whole page, or only the viewport when the page is taller than
    TALLEST_FULL_PAGE_SHOT pixels."""
    height = int(page.evaluate("() => document.documentElement.scrollHeight"))
    page.screenshot(path=path, full_page=height <= TALLEST_FULL_PAGE_SHOT)


def _open_page(
    browser: Browser, live_server: LiveServer, request: pytest.FixtureRequest, suffix: str,
    **context_options: Any,
) -> Iterator[Page]:  # fmt: skip
    context: BrowserContext = browser.new_context(base_url=live_server.base_url, **context_options)
    # Generous: a map derived for another day takes seconds on a busy 2-core machine, and a
    # slow machine should not fail a test that a broken page fails anyway.
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        yield page
    finally:
        try:
            if not page.is_closed():
                save_screenshot(page, _screenshot_path(request, suffix))
        except PlaywrightError as exc:
            warnings.warn(f"no screenshot for {request.node.name}: {exc}", stacklevel=1)
        context.close()


@pytest.fixture
def page(
    browser: Browser, live_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[Page]:
    yield from _open_page(browser, live_server, request, "", viewport=DESKTOP)


@pytest.fixture
def phone_page(
    browser: Browser, live_server: LiveServer, request: pytest.FixtureRequest
) -> Iterator[Page]:
    yield from _open_page(
        browser, live_server, request, "-phone", viewport=PHONE, is_mobile=True, has_touch=True
    )


def sideways(page: Page) -> int:
    """How far the page reaches past the width of its viewport (0 or less: it fits). Not
    window.innerWidth: a phone zooms out to show a page wider than itself, and innerWidth
    grows with it."""
    width = (page.viewport_size or {"width": 0})["width"]
    return int(page.evaluate("document.documentElement.scrollWidth")) - width


AxeCheck = Callable[..., list[dict[str, Any]]]


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_JS.is_file():
        skip_or_fail(f"{AXE_JS.relative_to(ROOT)} is missing: run `npm ci` (or `make test`)")
    return AXE_JS.read_text(encoding="utf-8")


@pytest.fixture
def axe(axe_source: str) -> AxeCheck:
    """`axe(page, context=None, options=None)`: the serious and critical axe violations."""

    def check(
        page: Page, context: str | None = None, options: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        page.wait_for_load_state()
        # evaluate() runs through the DevTools protocol, which the page's CSP does not govern.
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(axe_source)
        results = page.evaluate(
            "([context, options]) => axe.run(context ?? document, options ?? {})",
            [context, options],
        )
        return [v for v in results["violations"] if v.get("impact") in BLOCKING_IMPACTS]

    return check


def describe_violations(violations: list[dict[str, Any]]) -> str:
    """One line per violation, for an assertion message."""
    lines = []
    for v in violations:
        targets = ", ".join(str(n["target"]) for n in v.get("nodes", [])[:3])
        lines.append(f"{v['impact']} {v['id']}: {v['help']} at {targets} ({v['helpUrl']})")
    return "axe found:\n" + "\n".join(lines)
