"""The follow-up list: every open campaign's next steps, in the API and on /follow-up."""

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session

from optout_tracker.clock import today
from optout_tracker.enums import AgencyKind, LetterPurpose, VoteOutcome
from optout_tracker.schemas import FollowUpFilters
from optout_tracker.services import agencies, feeds, follow_up, notices
from optout_tracker.status import Step
from tests import factories
from tests.forms import defaults

SANTA_CLARA, MARIN, NEW_YORK = "06085", "06041", "36061"


def _campaigns(session: Session) -> dict[str, int]:
    """Santa Clara passed a vote 10 days ago and sent nothing; Marin wrote to its SIB only,
    40 days ago, and the answer is overdue; New York County's vote was 5 days ago."""
    on = today()
    santa_clara = factories.jurisdiction(session, SANTA_CLARA)
    factories.vote(session, santa_clara, held_on=on - timedelta(days=10))
    marin = factories.jurisdiction(session, MARIN)
    factories.vote(session, marin, held_on=on - timedelta(days=50))
    sib = factories.agency(session, AgencyKind.state_identification_bureau, "CA")
    factories.letter(session, marin, sib, sent_on=on - timedelta(days=40))
    new_york = factories.jurisdiction(session, NEW_YORK)
    factories.vote(session, new_york, held_on=on - timedelta(days=5), outcome=VoteOutcome.scheduled)
    session.commit()
    return {"santa_clara": santa_clara.id or 0, "marin": marin.id or 0, "ny": new_york.id or 0}


def test_the_list_holds_each_open_campaigns_steps_oldest_first(session: Session) -> None:
    ids = _campaigns(session)
    on = today()
    found = [(i.jurisdiction_id, i.step, i.due_on) for i in follow_up.items(session)]
    assert found == [
        (ids["marin"], Step.notify_ice, on - timedelta(days=40)),
        (ids["santa_clara"], Step.send_notice, on - timedelta(days=10)),
        (ids["marin"], Step.chase, on - timedelta(days=9)),
        (ids["ny"], Step.log_outcome, on - timedelta(days=4)),
    ]
    chase = follow_up.items(session, step=Step.chase)[0]
    assert chase.letter_id is not None
    assert chase.detail.startswith("Marin County, CA: the answer to the letter of ")
    assert [i.state for i in follow_up.items(session, state="NY")] == ["NY"]
    shown, total = follow_up.page(session, FollowUpFilters(limit=2, offset=1))
    assert total == 4 and [i.step for i in shown] == [Step.send_notice, Step.chase]


def test_a_chaser_puts_the_chase_off_and_the_item_still_names_the_first_letter(
    session: Session,
) -> None:
    """Marin's notice went 40 days ago; a follow-up 35 days ago (due 5 days ago) keeps the
    chase on, from the follow-up's due date, naming the notice still awaited."""
    ids = _campaigns(session)
    on = today()
    marin = factories.jurisdiction(session, MARIN)
    sib = factories.agency(session, AgencyKind.state_identification_bureau, "CA")
    notice = follow_up.items(session, step=Step.chase)[0].letter_id
    factories.letter(
        session, marin, sib, sent_on=on - timedelta(days=35), purpose=LetterPurpose.follow_up,
        follows_letter_id=notice,
    )  # fmt: skip
    session.commit()
    [chase] = follow_up.items(session, step=Step.chase)
    assert (chase.jurisdiction_id, chase.letter_id) == (ids["marin"], notice)
    assert chase.due_on == on - timedelta(days=4)
    assert "is still awaited; the follow-up's was due on" in chase.detail


def test_an_answer_to_the_chaser_answers_the_notice_everywhere(session: Session) -> None:
    """The rules and every SQL read agree: Marin's notice, chased, is answered when the
    chaser is; nothing then waits on the calendar, the agency's page or the chaser form."""
    ids = _campaigns(session)
    on = today()
    marin = factories.jurisdiction(session, MARIN)
    sib = factories.agency(session, AgencyKind.state_identification_bureau, "CA")
    notice = follow_up.items(session, step=Step.chase)[0].letter_id or 0
    chaser = factories.letter(
        session, marin, sib, sent_on=on - timedelta(days=5), purpose=LetterPurpose.follow_up,
        follows_letter_id=notice,
    )  # fmt: skip
    session.commit()
    waiting = {d.uid for d in feeds.dates_ahead(session)}
    assert {f"letter-{notice}", f"letter-{chaser.id}"} <= waiting
    assert agencies.stats(session, sib.id or 0).awaiting_total == 2
    assert not notices.answered(session, notice)

    factories.response(session, marin, sib, received_on=on, letter_id=chaser.id)
    session.commit()
    assert ids["marin"] not in {
        i.jurisdiction_id for i in follow_up.items(session, step=Step.chase)
    }
    waiting = {d.uid for d in feeds.dates_ahead(session)}
    assert not {f"letter-{notice}", f"letter-{chaser.id}"} & waiting
    assert agencies.stats(session, sib.id or 0).awaiting_total == 0
    assert notices.answered(session, notice) and notices.answered(session, chaser.id or 0)


def test_the_list_is_computed_in_a_few_queries(session: Session, count_queries) -> None:
    _campaigns(session)
    with count_queries() as q:
        follow_up.items(session)
    assert q.count <= 8


def test_the_api_filters_and_pages_with_a_link_header(session: Session, client: TestClient) -> None:
    ids = _campaigns(session)
    answer = client.get("/api/v1/follow-up", params={"state": "ca", "limit": 1})
    assert answer.status_code == 200
    body = answer.json()
    assert (body["total"], body["limit"], body["offset"]) == (3, 1, 0)
    assert set(body["items"][0]) >= {"jurisdiction_id", "step", "due_on", "detail"}
    assert 'rel="next"' in answer.headers["Link"]
    chase = client.get("/api/v1/follow-up", params={"step": "chase"}).json()["items"]
    assert [i["jurisdiction_id"] for i in chase] == [ids["marin"]]
    empty = client.get("/api/v1/follow-up", params={"state": "", "step": ""}).json()
    assert empty["total"] == 4
    bad = client.get("/api/v1/follow-up", params={"step": "pray"})
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in bad.json()["errors"]] == ["step"]


def test_the_page_filters_with_its_defaults_and_links_each_step(
    session: Session, client: TestClient
) -> None:
    _campaigns(session)
    page = client.get("/follow-up").text
    assert 'href="/jurisdictions/ca-marin-county"' in page
    assert "/chaser" in page and "Write the chaser" in page
    assert 'href="/jurisdictions/ca-santa-clara-county/notice"' in page
    submitted = client.get("/follow-up", params=dict(defaults(page, "/follow-up")))
    assert submitted.status_code == 200 and "4 steps waiting" in submitted.text
    ny = client.get("/follow-up", params={"state": "NY", "step": ""}).text
    assert "1 step waiting" in ny and "Prepare the notice" not in ny
    home = client.get("/").text
    assert 'href="/follow-up"' in home and "Send the written notice" in home


def test_nothing_waits_without_open_campaigns(client: TestClient) -> None:
    assert "Nothing is waiting." in client.get("/follow-up").text
    assert client.get("/api/v1/follow-up").json()["total"] == 0


def test_the_page_and_the_api_take_as_many_queries_for_more_campaigns(
    session: Session, client: TestClient, count_queries
) -> None:
    def counted() -> list[int]:
        counts = []
        for url in ("/follow-up", "/api/v1/follow-up"):
            session.expunge_all()
            with count_queries() as q:
                assert client.get(url).status_code == 200
            counts.append(q.count)
        return counts

    _campaigns(session)
    few = counted()
    on = today()
    for fips in ("06001", "06013", "06075", "06081", "06097"):
        factories.vote(session, factories.jurisdiction(session, fips), held_on=on)
    session.commit()
    assert client.get("/api/v1/follow-up").json()["total"] == 9
    assert counted() == few
