"""A coalition's own web page, served from another origin, reads the by-FIPS statuses from
the browser (OPTOUT_CORS_ORIGINS lists it), with a key in a header (a preflight first) and
without; a page from an origin not listed is refused by the browser. In Chromium."""

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, expect

from optout_tracker.db import create_db_engine, unit_of_work
from optout_tracker.enums import Scope
from optout_tracker.main import create_app
from optout_tracker.security import CLI
from optout_tracker.services import accounts
from tests.conftest import DatabaseFactory, make_settings
from tests.live import seeded_database, serving

# The coalition's page: it asks the tracker for California's counties and shows how many
# answers came back, or the error the browser gave its script.
PAGE = """<!doctype html><html lang="en"><head><title>Coalition map</title></head><body>
<p id="out">loading</p><script>
const params = new URLSearchParams(location.search);
const headers = params.get("key") ? {"Authorization": "Bearer " + params.get("key")} : {};
fetch(params.get("api") + "/api/v1/status/by-fips?state=CA&kind=county", {headers})
  .then(r => r.json().then(rows => {
    document.getElementById("out").textContent =
      rows.length + " counties, ETag " + (r.headers.get("ETag") ? "readable" : "hidden");
  }))
  .catch(e => { document.getElementById("out").textContent = "refused: " + e.name; });
</script></body></html>"""


@contextmanager
def coalition_site() -> Iterator[str]:
    """A static web server for PAGE on a port of its own: another origin than the API's."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
            body = PAGE.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_coalition_page_reads_the_by_fips_statuses_from_the_browser(
    browser: Browser, databases: DatabaseFactory
) -> None:
    url = seeded_database(databases)
    engine = create_db_engine(make_settings(url))
    with unit_of_work(engine) as session:
        _, token = accounts.create_api_key(session, "coalition page", Scope.read, CLI)
    engine.dispose()
    with coalition_site() as site, coalition_site() as stranger:
        app = create_app(make_settings(url, cors_origins=site))
        with serving(app) as port:
            api = f"http://127.0.0.1:{port}"
            page = browser.new_page()
            try:
                page.goto(f"{site}/?api={api}")  # the public answer: its ETag exposed
                expect(page.locator("#out")).to_have_text("58 counties, ETag readable")
                page.goto(f"{site}/?api={api}&key={token}")  # a key: a preflight, then the read
                expect(page.locator("#out")).to_contain_text("58 counties")
                page.goto(f"{stranger}/?api={api}")
                expect(page.locator("#out")).to_have_text("refused: TypeError")
            finally:
                page.close()
        app.state.engine.dispose()
