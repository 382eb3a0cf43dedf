"""The forms of the organizer's loop after the notice, used as a person does on a 390×844
phone: left as they come (defaults, empty fields), submitted with a double tap, in Chromium.
The chaser, the follow-up filter, the agency's contacts, a follow's alerts, unsubscribe."""

import re
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from playwright.sync_api import Page, expect
from sqlmodel import col

from optout_tracker.clock import today
from optout_tracker.db import create_db_engine, unit_of_work
from optout_tracker.enums import AgencyKind, LetterPurpose
from optout_tracker.models import Agency
from optout_tracker.schemas import LetterCreate
from optout_tracker.security import CLI
from optout_tracker.services import jurisdictions, letters, mail
from tests.browser.conftest import SCREENSHOTS, LiveServer, sideways
from tests.conftest import make_settings

QUIET = "ca-colusa-county"  # no campaign events in the shipped history; no other test writes here
SAVED_OR_ALREADY = re.compile(r"was logged|was saved|already saved")


def api(page: Page, live_server: LiveServer, path: str) -> Any:
    answer = page.request.get(live_server.url(f"/api/v1{path}"))
    assert answer.ok, (path, answer.status)
    return answer.json()


def letter_awaiting_an_answer(live_server: LiveServer) -> tuple[int, int]:
    """A notice to ICE from a quiet county, 45 days ago: its answer is overdue. (jurisdiction
    id, letter id)"""
    engine = create_db_engine(make_settings(live_server.database_url))
    try:
        with unit_of_work(engine) as session:
            j, _ = jurisdictions.get_by_slug(session, QUIET)
            ice = session.scalars(
                sa.select(Agency).where(col(Agency.kind) == AgencyKind.ice).order_by(col(Agency.id))
            ).first()
            assert ice is not None
            data = LetterCreate(
                jurisdiction_id=j.id or 0, agency_id=ice.id or 0,
                sent_on=today() - timedelta(days=45), purpose=LetterPurpose.opt_out_request,
                signed_by="Chair of the Board",
            )  # fmt: skip
            return j.id or 0, letters.create(session, data, CLI, 30).id or 0
    finally:
        engine.dispose()


def test_on_a_phone_the_chaser_form_logs_one_follow_up_as_it_comes(
    phone_page: Page, live_server: LiveServer
) -> None:
    j_id, letter_id = letter_awaiting_an_answer(live_server)
    page = phone_page
    live_server.sign_in(page, live_server.organizer, next=f"/letters/{letter_id}/chaser")
    expect(page.get_by_role("heading", name="Write a follow-up")).to_be_visible()
    assert page.get_by_label("Text of the letter").input_value().strip()  # prefilled
    assert sideways(page) <= 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "chaser-phone.png", full_page=True)
    page.get_by_role("button", name="Log the follow-up").dblclick()  # a double tap
    expect(page).to_have_url(re.compile(r"/letters/\d+$"))
    expect(page.locator(".flash")).to_contain_text(SAVED_OR_ALREADY)
    written = api(page, live_server, f"/letters?jurisdiction_id={j_id}&limit=500")["items"]
    chasers = [x for x in written if x["follows_letter_id"] == letter_id]
    assert len(chasers) == 1, chasers  # one follow-up, not two
    assert chasers[0]["purpose"] == "follow_up" and chasers[0]["sent_on"] == str(today())
    assert page.url.endswith(f"/letters/{chasers[0]['id']}")


def test_on_a_phone_the_follow_up_filter_works_with_its_empty_fields(
    phone_page: Page, live_server: LiveServer
) -> None:
    page = phone_page
    page.goto(live_server.url("/follow-up"))
    page.get_by_role("button", name="Show").dblclick()
    expect(page).to_have_url(re.compile(r"/follow-up\?state=&step=$"))
    expect(page.get_by_role("heading", name="Follow-up")).to_be_visible()
    expect(page.get_by_text("Invalid input")).to_have_count(0)
    page.get_by_label("State").fill("ca")  # as a phone's keyboard may send it
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"state=ca"))
    expect(page.get_by_text("Invalid input")).to_have_count(0)
    assert sideways(page) <= 0
    page.screenshot(path=SCREENSHOTS / "follow-up-phone.png", full_page=True)


def test_on_a_phone_the_agency_form_saves_as_it_comes_and_refuses_a_bad_window(
    phone_page: Page, live_server: LiveServer
) -> None:
    page = phone_page
    live_server.sign_in(page, live_server.organizer)
    bureaus = api(page, live_server, "/agencies?state=NV&kind=state_identification_bureau")
    bureau = bureaus["items"][0]
    page.goto(live_server.url(f"/agencies/{bureau['id']}/edit"))
    page.get_by_role("button", name="Save").dblclick()  # nothing changed, tapped twice
    expect(page).to_have_url(live_server.url(f"/agencies/{bureau['id']}"))
    expect(page.locator(".flash")).to_contain_text(SAVED_OR_ALREADY)
    assert api(page, live_server, f"/agencies/{bureau['id']}")["version"] == bureau["version"]

    page.goto(live_server.url(f"/agencies/{bureau['id']}/edit"))
    page.get_by_label("Days it has to answer a letter").fill("0")
    page.get_by_role("button", name="Save").dblclick()
    expect(page.locator(".errors")).to_contain_text("Days it has to answer a letter")
    assert "/edit" in page.url
    assert sideways(page) <= 0
    page.screenshot(path=SCREENSHOTS / "agency-form-refused-phone.png", full_page=True)
    after = api(page, live_server, f"/agencies/{bureau['id']}")
    assert after["version"] == bureau["version"]
    assert after["response_window_days"] == bureau["response_window_days"]


def test_on_a_phone_alerts_change_once_and_the_unsubscribe_link_turns_them_off(
    phone_page: Page, live_server: LiveServer
) -> None:
    page = phone_page
    live_server.sign_in(page, live_server.admin, next="/states/NV")
    page.get_by_role("button", name="Follow").click()
    expect(page.locator(".flash")).to_have_text("Following.")
    page.goto(live_server.url("/account"))
    [follow] = [f for f in api(page, live_server, "/follows") if f["state"] == "NV"]
    page.locator(f"#alerts-{follow['id']}").select_option("daily")
    page.locator(f'form[action="/account/follows/{follow["id"]}"] button').dblclick()
    expect(page).to_have_url(live_server.url("/account"))
    expect(page.locator(".flash")).to_contain_text(re.compile("Alerts changed|already saved"))
    changed = api(page, live_server, f"/follows/{follow['id']}")
    assert changed["alerts"] == "daily"

    token = mail.unsubscribe_token(make_settings(live_server.database_url), follow_id=follow["id"])
    page.goto(live_server.url(f"/unsubscribe/{token}"))
    expect(page.get_by_text("Stop the alerts and digests for")).to_be_visible()
    assert sideways(page) <= 0
    page.get_by_role("button", name="Unsubscribe").dblclick()
    expect(page.get_by_role("status")).to_contain_text("Done: no more alerts or digests")
    assert api(page, live_server, f"/follows/{follow['id']}")["alerts"] == "off"
    page.screenshot(path=SCREENSHOTS / "unsubscribed-phone.png", full_page=True)

    page.goto(live_server.url("/account"))  # leave the shared database as it was
    page.locator(f'form[action="/account/follows/{follow["id"]}/delete"] button').click()
    expect(page.locator(".flash")).to_have_text("No longer following.")


def test_on_a_phone_the_jurisdictions_filter_works_as_it_comes_and_narrows_to_a_state(
    phone_page: Page, live_server: LiveServer
) -> None:
    """The list is a public page kept by the cache: an anonymous visitor's filter, sent with
    its defaults and then with a state typed in, each with a double tap."""
    page = phone_page
    page.goto("/jurisdictions")
    show = page.get_by_role("button", name="Show")
    show.dblclick()  # the defaults: every jurisdiction
    expect(page).to_have_url(re.compile(r"/jurisdictions\?.*sort=name"))
    expect(page.get_by_text(re.compile(r"^\d[\d,]* jurisdictions ·"))).to_be_visible()
    assert sideways(page) <= 0, f"the list is {sideways(page)} px too wide"
    page.get_by_label("State").fill("ca")
    page.get_by_role("button", name="Show").dblclick()
    expect(page).to_have_url(re.compile(r"state=ca", re.I))
    expect(page.get_by_role("link", name="Santa Clara County")).to_be_visible()
    expect(page.get_by_role("link", name="Arlington County")).to_have_count(0)
    assert sideways(page) <= 0, f"the CA list is {sideways(page)} px too wide"
    page.screenshot(path=SCREENSHOTS / "phone-jurisdictions-filter.png", full_page=True)
