"""Every page and form, as a browser without JavaScript uses them."""

import html
import re
from datetime import date, timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, col

from optout_tracker.clock import today
from optout_tracker.enums import AgencyKind, CampaignStatus
from optout_tracker.models import Agency, ApiKey, AuditEntry, JurisdictionStatus, User, Vote
from tests import factories
from tests.conftest import Credentials

HTML = {"accept": "text/html"}
HOSTILE = '<script>alert("x")</script>&"\''


def csrf(client: TestClient, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match, path
    return match.group(1)


def sign_in(client: TestClient, credentials: Credentials, role: str) -> None:
    credentials.user(role)
    data = {"email": f"{role}@example.org", "password": "correct horse battery"}
    r = client.post(
        "/login", data={**data, "csrf_token": csrf(client, "/login")}, follow_redirects=False
    )
    assert r.status_code == 303


def post_form(client: TestClient, path: str, form_page: str, data: dict[str, str]):
    return client.post(
        path, data={**data, "csrf_token": csrf(client, form_page)}, follow_redirects=False
    )


@pytest.mark.history
def test_the_map_draws_every_county_with_a_link_and_a_title(
    client: TestClient, session: Session
) -> None:
    session.commit()
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.text.count('<a href="/jurisdictions/') >= 3142
    # Today: its campaign's last status, ICE's denial of Aug 5, 2011 (closed since 2014).
    santa_clara = re.search(
        r'<a href="/jurisdictions/06085"><path class="s-denied" d="M[^"]+">'
        r"<title>Santa Clara County, CA: Opt-out denied</title>",
        r.text,
    )
    assert santa_clara
    assert '<path class="borders"' in r.text
    # The program ended in 2014: no historical letter awaits an answer.
    assert "Needs follow-up" in r.text and "Nothing is waiting." in r.text
    assert "Recent activity" in r.text and "Coming up" in r.text
    legend = re.search(r'data-key="s-denied" data-label="Opt-out denied">(\d+)<', r.text)
    assert legend and int(legend.group(1)) >= 3  # Arlington, Santa Clara, San Francisco
    before = client.get("/?as_of=2010-12-31").text  # before ICE's letter, the vote decides
    assert '<a href="/jurisdictions/06085"><path class="s-vote_passed"' in before


@pytest.mark.history
def test_the_states_view_colours_states_by_their_own_status(
    client: TestClient, session: Session
) -> None:
    session.commit()
    r = client.get("/?view=states")
    assert len(re.findall(r'<a href="/jurisdictions/\d+"><path', r.text)) == 51  # and DC
    assert re.search(r'<a href="/jurisdictions/17"><path class="s-denied"', r.text)  # Illinois
    assert client.get("/?view=cities").status_code == 422


def test_a_state_page_zooms_to_its_counties(client: TestClient) -> None:
    r = client.get("/states/ca", headers=HTML)
    assert r.status_code == 200
    assert len(re.findall(r'<a href="/jurisdictions/06\d{3}"><path', r.text)) == 58
    assert "California Department of Justice, Bureau of Criminal Information" in r.text
    assert client.get("/states/ZZ", headers=HTML).status_code == 404


def test_the_embed_is_frameable_and_opens_links_in_a_new_tab(client: TestClient) -> None:
    r = client.get("/embed/map")
    assert "frame-ancestors *" in r.headers["content-security-policy"]
    assert "x-frame-options" not in r.headers
    assert 'target="_blank"' in r.text and "<header" not in r.text


def test_map_pages_offer_the_embed_code_of_the_map_they_show(client: TestClient) -> None:
    for path, params in [
        ("/", {}),
        ("/?as_of=2011-06-30&layer=rollout", {"as_of": "2011-06-30", "layer": "rollout"}),
        ("/states/CA?layer=rollout", {"layer": "rollout", "state": "CA"}),
    ]:
        page = client.get(path, headers=HTML).text
        found = re.search(r'&lt;iframe src="([^"]+)" width="960" height="640"', page)
        assert found, path
        src = html.unescape(found.group(1))
        assert src.startswith("http") and "/embed/map" in src
        assert dict(parse_qsl(urlsplit(src).query)) == params, path
        embed = urlsplit(src)
        assert client.get(f"{embed.path}?{embed.query}").status_code == 200


def test_the_list_filters_sorts_pages_and_links_its_twins(client: TestClient) -> None:
    r = client.get("/jurisdictions?state=CA&kind=county&sort=name&limit=20")
    assert r.status_code == 200
    assert "58 jurisdictions" in r.text
    assert r.text.index("Alameda County") < r.text.index("Alpine County")
    assert (
        'href="/api/v1/jurisdictions?state=CA&amp;kind=county&amp;sort=name&amp;limit=20"' in r.text
    )
    assert "/api/v1/export/jurisdictions.csv?" in r.text
    assert 'rel="next"' in r.text and "offset=20" in r.text
    assert "Alameda County" not in client.get("/jurisdictions?state=CA&q=santa").text
    assert client.get("/jurisdictions?status=nonsense", headers=HTML).status_code == 422


def test_the_list_links_the_page_before_with_the_other_parameters(client: TestClient) -> None:
    r = client.get("/jurisdictions?state=CA&limit=20&offset=10")
    assert 'rel="prev" href="?state=CA&amp;limit=20&amp;offset=0"' in r.text  # not -10
    assert 'rel="next" href="?state=CA&amp;limit=20&amp;offset=30"' in r.text
    assert 'rel="prev"' not in client.get("/jurisdictions?state=CA").text


@pytest.mark.history
def test_the_dossier_shows_status_checklist_timeline_and_sources(
    client: TestClient, session: Session
) -> None:
    session.commit()
    r = client.get("/jurisdictions/va-arlington-county")
    assert r.status_code == 200
    text = r.text
    assert "Opt-out denied" in text and "since Mar 1, 2011" in text
    assert "✗ State identification bureau" in text and "✓ ICE" in text
    # The checklist and the letters name their agencies with a link to their pages.
    sib = session.scalars(
        sa.select(Agency).filter_by(kind="state_identification_bureau", state="VA")
    ).one()
    ice = session.scalars(sa.select(Agency).filter_by(kind="ice")).one()
    assert f'(<a href="/agencies/{sib.id}">{sib.name}</a>)' in text
    assert f'To <a href="/agencies/{ice.id}">{ice.name}</a>' in text
    timeline = text[text.index('id="timeline"') :]
    assert timeline.index("Sep 28, 2010") < timeline.index("Oct 7, 2010") < timeline.index("Mar 1")
    # The denial is shown under the letter it answers.
    assert re.search(r"Oct 7, 2010.*?<ul class=\"answers\".*?Mar 1, 2011", text, re.S)
    assert "http://topics.arlingtonva.us/arlington-secure-communities-program/" in text
    assert '<link rel="canonical" href="/jurisdictions/va-arlington-county">' in text
    assert client.get("/jurisdictions/51013").status_code == 200  # the map links by FIPS


def test_activation_despite_an_opt_out_request_is_flagged(
    client: TestClient, session: Session
) -> None:
    j = factories.jurisdiction(session, "06001")
    factories.letter(session, j, factories.agency(session), sent_on=date(2010, 10, 7))
    factories.activate(session, j, date(2011, 1, 4))
    session.commit()
    page = client.get("/jurisdictions/ca-alameda-county").text
    assert "Activated despite opting out:" in page
    assert "went live here on Jan 4, 2011" in page
    assert "(notice sent Oct 7, 2010)" in page


def test_private_notes_and_history_only_for_signed_in_users(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    j = factories.jurisdiction(session, "06001")
    j.private_notes = "Supervisor Chan is persuadable"
    session.commit()
    assert "persuadable" not in client.get("/jurisdictions/ca-alameda-county").text
    sign_in(client, credentials, "viewer")
    page = client.get("/jurisdictions/ca-alameda-county").text
    assert "persuadable" in page and "Change history" in page
    assert "Log a vote" not in page  # viewers do not write


def test_an_organizer_logs_a_vote_a_letter_and_a_response(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    sign_in(client, credentials, "organizer")
    base = "/jurisdictions/ca-alameda-county"
    r = post_form(client, f"{base}/log/vote", f"{base}/log/vote", {
        "body": "Board of Supervisors", "held_on": "2010-10-19", "outcome": "passed",
        "yes": "4", "no": "1", "measure": "Resolution 2010-12",
    })  # fmt: skip
    vote = session.scalars(sa.select(Vote).order_by(Vote.id.desc())).first()  # type: ignore[union-attr]
    assert vote and r.status_code == 303 and r.headers["location"] == f"{base}#vote-{vote.id}"
    page = client.get(base).text
    assert "The vote was logged." in page and "Board of Supervisors voted 4–1 to opt out" in page

    sib = factories.agency(session, AgencyKind.state_identification_bureau, "CA")
    r = post_form(client, f"{base}/log/letter", f"{base}/log/letter", {
        "agency_id": str(sib.id), "sent_on": "2010-10-20", "purpose": "opt_out_request",
        "channel": "fax",
    })  # fmt: skip
    assert r.status_code == 303
    letter_id = re.search(
        r'<option value="(\d+)">Oct 20, 2010', client.get(f"{base}/log/response").text
    )
    assert letter_id
    r = post_form(client, f"{base}/log/response", f"{base}/log/response", {
        "agency_id": str(sib.id), "letter_id": letter_id.group(1), "received_on": "2010-11-02",
        "kind": "meeting_requested",
    })  # fmt: skip
    assert r.status_code == 303
    j = factories.jurisdiction(session, "06001")
    status = session.get(JurisdictionStatus, j.id)
    assert status is not None and status.status is CampaignStatus.in_negotiation
    assert re.search(
        r'<a href="/jurisdictions/06001"><path class="s-in_negotiation"', client.get("/").text
    )


def test_the_tally_fields_are_whole_numbers_from_zero(
    client: TestClient, credentials: Credentials
) -> None:
    sign_in(client, credentials, "organizer")
    page = client.get("/jurisdictions/ca-alameda-county/log/vote").text
    for name in ("yes", "no", "abstain", "absent"):
        tag = re.search(rf'<input id="f-{name}" name="{name}" type="number"[^>]*>', page)
        assert tag and ' min="0" inputmode="numeric">' in tag.group(0), name
    assert "&#34;" not in page  # no attribute arrives escaped into text


def test_form_errors_show_beside_their_fields_and_keep_the_input(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    sign_in(client, credentials, "organizer")
    base = "/jurisdictions/ca-alameda-county"
    before = session.scalar(sa.select(sa.func.count()).select_from(Vote))
    future = (today() + timedelta(days=10)).isoformat()
    r = post_form(client, f"{base}/log/vote", f"{base}/log/vote", {
        "body": "Board of Supervisors", "held_on": future, "outcome": "passed", "yes": "-1",
    })  # fmt: skip
    assert r.status_code == 422
    assert 'aria-invalid="true"' in r.text and 'id="e-yes"' in r.text
    assert 'value="Board of Supervisors"' in r.text  # the input is kept
    r = post_form(client, f"{base}/log/vote", f"{base}/log/vote", {
        "body": "Board of Supervisors", "held_on": future, "outcome": "passed",
    })  # fmt: skip
    assert r.status_code == 422 and 'id="e-held_on"' in r.text and "future" in r.text
    assert session.scalar(sa.select(sa.func.count()).select_from(Vote)) == before


def test_an_edit_conflict_is_shown_not_overwritten(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    sign_in(client, credentials, "organizer")
    edit = "/jurisdictions/ca-alameda-county/edit"
    form_page = client.get(edit).text
    version = re.search(r'name="version" value="(\d+)"', form_page)
    assert version
    j = factories.jurisdiction(session, "06001")
    j.population = 1_682_353  # someone else saves meanwhile
    session.commit()
    r = post_form(
        client,
        edit,
        edit,
        {"version": version.group(1), "name": "Alameda County", "population": "1600000"},
    )
    assert (
        r.status_code == 409 and "Someone saved this jurisdiction" in r.text and "1682353" in r.text
    )
    session.refresh(j)
    assert j.population == 1_682_353
    fresh = re.search(r'name="version" value="(\d+)"', client.get(edit).text)
    assert fresh
    r = post_form(
        client,
        edit,
        edit,
        {"version": fresh.group(1), "name": "Alameda County", "population": "1600000"},
    )
    assert r.status_code == 303
    session.refresh(j)
    assert j.population == 1_600_000


def test_forms_need_a_signed_in_organizer_and_the_csrf_token(
    client: TestClient, credentials: Credentials
) -> None:
    path = "/jurisdictions/ca-alameda-county/log/vote"
    assert (
        client.get(path, follow_redirects=False).headers["location"]
        == f"/login?next={path.replace('/', '%2F')}"
    )
    sign_in(client, credentials, "viewer")
    assert client.get(path, headers=HTML).status_code == 403
    client.post("/logout", data={"csrf_token": csrf(client, "/logout")})
    sign_in(client, credentials, "organizer")
    r = client.post(
        path, data={"body": "Board", "held_on": "2010-10-19", "outcome": "passed"}, headers=HTML
    )
    assert r.status_code == 403 and "CSRF" in r.text


def test_hostile_text_is_escaped_everywhere(client: TestClient, session: Session) -> None:
    j = factories.jurisdiction(session, "06001")
    j.name = HOSTILE
    j.public_notes = HOSTILE
    factories.vote(session, j, body=HOSTILE, measure=HOSTILE)
    session.commit()
    for path in (
        "/",
        "/states/CA",
        "/embed/map",
        "/jurisdictions?state=CA",
        "/jurisdictions/ca-alameda-county",
    ):
        text = client.get(path).text
        assert "<script>alert" not in text, path
        assert "&lt;script&gt;alert" in text, path


def test_admins_manage_users_and_api_keys(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    sign_in(client, credentials, "admin")
    r = post_form(
        client,
        "/admin/users",
        "/admin/users",
        {"email": "new@example.org", "role": "organizer", "password": "long enough pw"},
    )
    assert r.status_code == 303
    user = session.scalars(sa.select(User).filter_by(email="new@example.org")).one()
    r = post_form(client, f"/admin/users/{user.id}/active", "/admin/users", {"active": "false"})
    assert r.status_code == 303
    session.refresh(user)
    assert not user.active
    bad = post_form(
        client,
        "/admin/users",
        "/admin/users",
        {"email": "x@example.org", "role": "organizer", "password": "short"},
    )
    assert (
        bad.status_code == 422 and 'id="e-password"' in bad.text and "long enough" not in bad.text
    )

    r = post_form(
        client, "/admin/api-keys", "/admin/api-keys", {"name": "Coalition map", "scope": "read"}
    )
    token = re.search(r'<code class="token">(optk_[^<]+)</code>', r.text)
    assert r.status_code == 200 and token and r.headers["cache-control"] == "private, no-store"
    assert token.group(1) not in client.get("/admin/api-keys").text  # shown once
    key = session.scalars(sa.select(ApiKey).filter_by(name="Coalition map")).one()
    assert (
        post_form(client, f"/admin/api-keys/{key.id}/revoke", "/admin/api-keys", {}).status_code
        == 303
    )
    session.refresh(key)
    assert key.revoked_at is not None
    logged = session.execute(
        sa.select(
            col(AuditEntry.entity), col(AuditEntry.action), col(AuditEntry.actor_label)
        ).order_by(col(AuditEntry.id))
    ).all()
    by_admin = [(e, a) for e, a, who in logged if who == "admin@example.org"]
    assert by_admin == [("user", "create"), ("user", "update"), ("api_key", "create")] + [
        ("api_key", "update")
    ]  # the refused user left no entry


def test_admin_pages_are_for_admins(client: TestClient, credentials: Credentials) -> None:
    assert client.get("/admin/users", follow_redirects=False).status_code == 303
    sign_in(client, credentials, "organizer")
    assert client.get("/admin/users", headers=HTML).status_code == 403


@pytest.mark.parametrize(
    ("path", "status"), [("/jurisdictions/nowhere", 404), ("/no/such/page", 404)]
)
def test_error_pages_are_html_for_people_and_problems_for_the_api(
    client: TestClient, path: str, status: int
) -> None:
    page = client.get(path, headers=HTML)
    assert page.status_code == status and page.headers["content-type"].startswith("text/html")
    assert "optout-tracker" in page.text and "<h1>" in page.text
    api = client.get("/api/v1/jurisdictions/99999", headers=HTML)
    assert api.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("path", "status"),
    [("/jurisdictions/no-such-place", 404), ("/nowhere", 404), ("/admin/users", 403)],
)
def test_an_error_page_still_says_who_is_signed_in(
    client: TestClient, credentials: Credentials, path: str, status: int
) -> None:
    sign_in(client, credentials, "organizer")
    page = client.get(path, headers=HTML)
    assert page.status_code == status
    assert "Sign out" in page.text and "organizer@example.org" in page.text
    assert "Log an announcement" in page.text  # the organizer's links too


def test_pages_are_compressed_and_static_files_cached(client: TestClient) -> None:
    r = client.get("/", headers={"accept-encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"
    assert int(r.headers["content-length"]) < 200_000  # the outlines alone are about 144 KB
    css = client.get("/static/site.css")
    assert css.status_code == 200 and "max-age=86400" in css.headers["cache-control"]


def test_a_server_error_is_a_page_in_the_sites_style(app_settings) -> None:
    from optout_tracker.main import create_app

    app = create_app(app_settings)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/boom", headers=HTML)
    app.state.engine.dispose()
    assert r.status_code == 500 and r.headers["content-type"].startswith("text/html")
    assert "Internal Server Error" in r.text and "secret" not in r.text


@pytest.mark.parametrize(
    "path",
    [
        "/jurisdictions/a%00b",
        "/states/c%00",
        "/feeds/jurisdictions/a%00b.atom",
        "/jurisdictions/a%0bb",
    ],
)
def test_odd_characters_in_paths_are_not_a_server_error(client: TestClient, path: str) -> None:
    assert client.get(path, headers=HTML).status_code in (404, 422)


def test_odd_characters_in_forms_are_refused_cleanly(
    client: TestClient, credentials: Credentials
) -> None:
    data = {"email": "a\x00@example.org", "password": "x", "csrf_token": csrf(client, "/login")}
    assert client.post("/login", data=data).status_code == 401
    sign_in(client, credentials, "admin")
    r = post_form(
        client,
        "/admin/users",
        "/admin/users",
        {"email": "x\x00@example.org", "role": "viewer", "password": "long enough pw"},
    )
    assert r.status_code == 422
    for path in ("/admin/users/3000000000/active", "/admin/api-keys/99999999999999999999/revoke"):
        assert post_form(client, path, "/admin/users", {"active": "false"}).status_code == 422
