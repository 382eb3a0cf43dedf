"""The written notice (service, API, form), a letter's printable page and PDF, and the
chaser; on both databases."""

import io
import re
from datetime import date, timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlmodel import Session, col

from optout_tracker.clock import today
from optout_tracker.enums import AgencyKind, Channel, LetterPurpose
from optout_tracker.errors import Conflict, InvalidInput
from optout_tracker.models import Agency, AuditEntry, Letter, Response
from optout_tracker.schemas import LetterCreate, LetterUpdate, NoticeCreate
from optout_tracker.security import CLI
from optout_tracker.services import jurisdictions, letters, notices, status_projection
from tests import factories
from tests.conftest import Credentials
from tests.forms import defaults
from tests.test_pages import sign_in

MARIN = "06041"
SLUG = "ca-marin-county"
API = "/api/v1"


def count_letters(session: Session) -> int:
    session.expire_all()
    return session.scalar(sa.select(sa.func.count()).select_from(Letter)) or 0


def sib(session: Session) -> Agency:
    return factories.agency(session, AgencyKind.state_identification_bureau, "CA")


def ice(session: Session) -> Agency:
    return factories.agency(session, AgencyKind.ice)


def as_form(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """A form's fields as httpx posts them, a repeated name (the recipients) included."""
    form: dict[str, list[str]] = {}
    for name, value in pairs:
        form.setdefault(name, []).append(value)
    return form


def notice(**fields: object) -> NoticeCreate:
    return NoticeCreate.model_validate({"sent_on": today(), "signed_by": "Chair", **fields})


# The service


def test_the_notice_logs_a_letter_to_the_sib_and_to_ice_audited_with_their_events(
    session: Session,
) -> None:
    factories.webhook(session, events=["letter.created"])
    j = factories.jurisdiction(session, MARIN)
    factories.vote(session, j, held_on=date(2010, 9, 28), yes=4, no=1, abstain=0, absent=0)
    sent = notices.send_notice(session, j.id or 0, notice(channel="mail"), CLI, 30)
    assert {x.agency_id for x in sent} == {sib(session).id, ice(session).id}
    for x in sent:
        assert x.purpose is LetterPurpose.opt_out_request and x.channel is Channel.mail
        assert x.response_due_on == x.sent_on + timedelta(days=30)
        assert x.body and "September 28, 2010" in x.body and "4 to 1" in x.body
    sib_letter = next(x for x in sent if x.agency_id == sib(session).id)
    assert (sib_letter.body or "").startswith(f"To {sib(session).name}:")
    ids = [x.id or 0 for x in sent]
    audited = session.scalars(
        sa.select(col(AuditEntry.entity_id)).where(
            col(AuditEntry.entity) == "letter", col(AuditEntry.entity_id).in_(ids)
        )
    ).all()
    assert sorted(audited) == sorted(ids)
    session.commit()  # events meet their subscriptions at commit
    assert [d.event for d in factories.deliveries(session)] == ["letter.created"] * 2
    status = jurisdictions.get(session, j.id or 0)[1]
    assert status.sib_notified and status.ice_notified


@pytest.mark.parametrize(
    "recipients, field",
    [
        ("missing", "recipients[1]"),
        ("other state", "recipients[1]"),
        ("twice", "recipients[1]"),
    ],
)
def test_one_bad_recipient_writes_nothing(session: Session, recipients: str, field: str) -> None:
    j = factories.jurisdiction(session, MARIN)
    factories.vote(session, j)
    before = count_letters(session)
    second = {
        "missing": 2_000_000,
        "other state": factories.agency(session, AgencyKind.state_identification_bureau, "VA").id,
        "twice": ice(session).id,
    }[recipients]
    with pytest.raises(InvalidInput) as refused:
        notices.send_notice(
            session, j.id or 0, notice(recipients=[ice(session).id, second]), CLI, 30
        )
    assert [e.field for e in refused.value.errors or []] == [field]
    assert count_letters(session) == before


def test_without_a_passed_vote_the_text_claims_none(session: Session) -> None:
    j = factories.jurisdiction(session, MARIN)
    factories.vote(session, j, outcome="failed", held_on=date(2010, 9, 1))
    sent = notices.send_notice(session, j.id or 0, notice(), CLI, 30)
    body = sent[0].body or ""
    assert "voted" not in body and "September 1" not in body
    assert "does not wish to participate in Secure Communities" in body


def test_the_text_cites_the_latest_passed_vote_and_leaves_out_an_unknown_tally(
    session: Session,
) -> None:
    j = factories.jurisdiction(session, MARIN)
    factories.vote(session, j, held_on=date(2010, 6, 1), body="Board", yes=3, no=2)
    factories.vote(
        session, j, held_on=date(2010, 9, 28), body="Board of Supervisors", yes=None, no=None,
        measure="Resolution 2010-99",
    )  # fmt: skip
    text = notices.draft(session, j, (False, False)).values["body"]
    assert "On September 28, 2010, the Board of Supervisors of Marin County voted" in text
    assert "(Resolution 2010-99)" in text
    assert "The vote was" not in text and "June 1" not in text


# Letters' own rules


def test_a_chaser_follows_a_letter_of_its_jurisdiction_sent_before_it(session: Session) -> None:
    j = factories.jurisdiction(session, MARIN)
    other = factories.jurisdiction(session, "06085")
    first = factories.letter(session, j, ice(session), sent_on=date(2010, 10, 7))
    elsewhere = factories.letter(session, other, ice(session), sent_on=date(2010, 10, 7))

    def chaser(follows: int, sent_on: date = date(2010, 12, 1)) -> LetterCreate:
        return LetterCreate(
            jurisdiction_id=j.id or 0, agency_id=ice(session).id or 0, sent_on=sent_on,
            purpose=LetterPurpose.follow_up, follows_letter_id=follows,
        )  # fmt: skip

    for follows, sent_on, message in [
        (elsewhere.id, date(2010, 12, 1), "another jurisdiction"),
        (first.id, date(2010, 10, 1), "after sent_on"),
        (2_000_000, date(2010, 12, 1), "no letter"),
    ]:
        with pytest.raises(InvalidInput) as refused:
            letters.create(session, chaser(follows or 0, sent_on), CLI, 30)
        assert [e.field for e in refused.value.errors or []] == ["follows_letter_id"]
        assert message in str((refused.value.errors or [])[0].message)
    made = letters.create(session, chaser(first.id or 0), CLI, 30)
    assert made.follows_letter_id == first.id
    with pytest.raises(InvalidInput):  # the first letter moved after its chaser
        letters.update(session, first, LetterUpdate(sent_on=date(2010, 12, 2)), CLI)
    with pytest.raises(Conflict, match=f"letters {made.id} follow this letter"):
        letters.delete(session, first, CLI)


def test_a_letter_cannot_move_away_from_its_answers_or_chasers(session: Session) -> None:
    j = factories.jurisdiction(session, MARIN)
    other = factories.jurisdiction(session, "06085")
    for later in ["response", "letter"]:
        first = factories.letter(session, j, ice(session), sent_on=date(2010, 10, 7))
        if later == "response":
            made: Response | Letter = factories.response(
                session, j, ice(session), letter_id=first.id
            )
        else:
            made = factories.letter(
                session, j, ice(session), sent_on=date(2011, 1, 5), follows_letter_id=first.id
            )
        with pytest.raises(InvalidInput) as too_late:
            later_on = LetterUpdate(sent_on=date(2011, 6, 1), response_due_on=date(2011, 7, 1))
            letters.update(session, first, later_on, CLI)
        assert too_late.value.errors and too_late.value.errors[0].field == "sent_on"
        assert f"{later} {made.id}" in str(too_late.value)
        with pytest.raises(Conflict) as moved:
            letters.update(session, first, LetterUpdate(jurisdiction_id=other.id), CLI)
        assert moved.value.errors and moved.value.errors[0].field == "jurisdiction_id"
        assert f"{later} {made.id}" in str(moved.value)
        session.refresh(first)
        assert first.jurisdiction_id == j.id and first.sent_on == date(2010, 10, 7)


# The API


def test_the_api_logs_the_notice_once_per_idempotency_key(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    j = factories.jurisdiction(session, MARIN)
    factories.vote(session, j)
    session.commit()
    write = {"Authorization": f"Bearer {credentials.token('write')}", "Idempotency-Key": "n-1"}
    body = {"sent_on": today().isoformat(), "signed_by": "Chair", "channel": "email"}
    before = count_letters(session)
    first = client.post(f"{API}/jurisdictions/{j.id}/notices", json=body, headers=write)
    again = client.post(f"{API}/jurisdictions/{j.id}/notices", json=body, headers=write)
    assert first.status_code == again.status_code == 201, first.text
    assert again.headers.get("idempotent-replayed") == "true"
    assert first.json() == again.json()
    sent = first.json()["letters"]
    assert len(sent) == 2 and count_letters(session) == before + 2
    assert {x["purpose"] for x in sent} == {"opt_out_request"}
    assert all(x["body"] and x["follows_letter_id"] is None for x in sent)


def test_the_api_refuses_a_bad_recipient_naming_it_and_writes_nothing(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    j = factories.jurisdiction(session, MARIN)
    write = {"Authorization": f"Bearer {credentials.token('write')}"}
    before = count_letters(session)
    body = {"sent_on": today().isoformat(), "signed_by": "Chair",
            "recipients": [sib(session).id, 2_000_000]}  # fmt: skip
    r = client.post(f"{API}/jurisdictions/{j.id}/notices", json=body, headers=write)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == ["recipients[1]"]
    assert count_letters(session) == before
    read = {"Authorization": f"Bearer {credentials.token('read')}"}
    denied = client.post(f"{API}/jurisdictions/{j.id}/notices", json=body, headers=read)
    assert denied.status_code == 403
    missing = client.post(f"{API}/jurisdictions/2000000/notices", json=body, headers=write)
    assert missing.status_code == 404


def test_the_api_documents_the_notices_path(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    post = spec["paths"]["/api/v1/jurisdictions/{jurisdiction_id}/notices"]["post"]
    assert "201" in post["responses"]
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])
    assert "follows_letter_id" in spec["components"]["schemas"]["LetterPublic"]["properties"]


# The form


def test_the_dossier_offers_the_notice_after_a_passed_vote(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    j = factories.jurisdiction(session, MARIN)
    factories.vote(session, j)
    session.commit()
    assert "Prepare the notice" not in client.get(f"/jurisdictions/{SLUG}").text  # visitors
    sign_in(client, credentials, "organizer")
    page = client.get(f"/jurisdictions/{SLUG}").text
    assert re.search(r'class="next-notice"><a class="button" href="/jurisdictions/'
                     + SLUG + '/notice">Prepare the notice', page)  # fmt: skip


def test_the_form_submitted_with_its_defaults_logs_both_letters_once(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    j = factories.jurisdiction(session, MARIN)
    factories.vote(session, j, held_on=date(2010, 9, 28), yes=4, no=1)
    session.commit()
    sign_in(client, credentials, "organizer")
    action = f"/jurisdictions/{SLUG}/notice"
    page = client.get(action).text
    assert "address unknown" in page or "address" in page
    fields = defaults(page, action)
    assert sorted(v for k, v in fields if k == "recipients") == sorted(
        str(a.id) for a in (sib(session), ice(session))
    )
    before = count_letters(session)
    first = client.post(action, data=as_form(fields), follow_redirects=False)
    second = client.post(action, data=as_form(fields), follow_redirects=False)  # a double tap
    assert first.status_code == second.status_code == 303, first.text
    assert first.headers["location"] == f"/jurisdictions/{SLUG}#notice"
    assert count_letters(session) == before + 2
    landed = client.get(first.headers["location"]).text
    assert "✓ State identification bureau" in landed and "✓ ICE" in landed
    sent = session.scalars(
        sa.select(Letter).where(col(Letter.jurisdiction_id) == j.id).order_by(col(Letter.id))
    ).all()
    # Left as offered, each copy is addressed to its own recipient.
    names = {a.id: a.name for a in (sib(session), ice(session))}
    assert [(x.body or "").split("\n")[0] for x in sent] == [
        f"To {names[x.agency_id]}:" for x in sent
    ]
    assert all(x.signed_by == "Board of Supervisors, Marin County" for x in sent)
    # The side still missing is what the form checks next time.
    session.delete(sent[1])
    session.commit()
    status_projection.refresh(session, [j.id or 0])
    session.commit()
    again = defaults(client.get(action).text, action)
    assert [v for k, v in again if k == "recipients"] == [str(sent[1].agency_id)]


def test_the_form_keeps_an_edited_text_and_refuses_no_recipient(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    j = factories.jurisdiction(session, MARIN)
    session.commit()
    sign_in(client, credentials, "organizer")
    action = f"/jurisdictions/{SLUG}/notice"
    page = client.get(action).text
    assert "No passed opt-out vote is on record" in page
    fields = [(k, v) for k, v in defaults(page, action) if k != "recipients"]
    before = count_letters(session)
    refused = client.post(action, data=as_form(fields), follow_redirects=False)
    assert refused.status_code == 422 and "check at least one agency" in refused.text
    assert count_letters(session) == before
    fields = [(k, v) for k, v in defaults(refused.text, action) if k != "body"]
    fields += [("recipients", str(ice(session).id)), ("body", "Our own words — é.\r\nLine two.")]
    saved = client.post(action, data=as_form(fields), follow_redirects=False)
    assert saved.status_code == 303, saved.text
    x = session.scalars(sa.select(Letter).where(col(Letter.jurisdiction_id) == j.id)).one()
    assert x.body == "Our own words — é.\nLine two." and x.agency_id == ice(session).id


# A letter's page and PDF


def test_the_letter_page_is_printable_and_says_what_is_unknown(
    client: TestClient, session: Session
) -> None:
    j = factories.jurisdiction(session, MARIN)
    to = sib(session)
    x = factories.letter(session, j, to, subject="Notice", body="First.\n\nSecond — é.",
                         signed_by="Chair, Board of Supervisors", channel=Channel.mail)  # fmt: skip
    session.commit()
    page = client.get(f"/letters/{x.id}")
    assert page.status_code == 200
    text = page.text
    for expected in (to.name, "Re: Notice", "<p>Second — é.</p>", "Chair, Board of Supervisors",
                     "Marin County", "October 7, 2010", 'class="sign-line"'):  # fmt: skip
        assert expected in text
    if not to.postal_address:
        assert (
            'Postal address unknown<span class="letter-tools"> — '
            f'<a href="/agencies/{to.id}">add it</a>' in text
        )
    assert "mailto:" not in text  # a letter by mail
    css = client.get("/static/site.css").text
    printing = css[css.index("/* ---- Letters") :]
    assert "@media print" in printing and ".letter-tools" in printing
    assert "header.site" in printing and "@page" in printing
    assert client.get("/letters/2000000").status_code == 404


def test_an_email_letter_has_its_text_to_copy_and_a_mailto_link(
    client: TestClient, session: Session
) -> None:
    j = factories.jurisdiction(session, MARIN)
    to = ice(session)
    to.email = "secure.communities@ice.dhs.gov"
    x = factories.letter(session, j, to, subject="Opt out & more", body="We ask — please.",
                         signed_by="Chair", channel=Channel.email)  # fmt: skip
    session.commit()
    text = client.get(f"/letters/{x.id}").text
    assert '<textarea id="email-body" class="copy" rows="14" readonly>We ask — please.' in text
    link = re.search(r'href="(mailto:[^"]+)"', text)
    assert link
    parts = urlsplit(link.group(1).replace("&amp;", "&"))
    assert unquote(parts.path) == "secure.communities@ice.dhs.gov"
    query = parse_qs(parts.query)
    assert query["subject"] == ["Opt out & more"]
    assert query["body"][0].startswith("We ask — please.") and "Chair" in query["body"][0]


@pytest.mark.parametrize("text", ["Plain text, é and — dashes.", "Ελληνικά, русский, Zoë → ✓"])
def test_the_pdf_holds_the_recipient_and_the_text(
    client: TestClient, session: Session, text: str
) -> None:
    j = factories.jurisdiction(session, MARIN)
    x = factories.letter(session, j, sib(session), subject="Notice — opt out", body=text)
    session.commit()
    r = client.get(f"/letters/{x.id}.pdf")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == f'inline; filename="letter-{x.id}.pdf"'
    extracted = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
    flat = " ".join(extracted.split())
    assert sib(session).name in flat
    assert " ".join(text.split()) in flat
    assert "Notice — opt out" in flat and "County Executive" in flat


# The chaser


def test_the_chaser_form_logs_a_follow_up_to_the_same_agency(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    j = factories.jurisdiction(session, MARIN)
    first = factories.letter(session, j, ice(session), subject="Notice", channel=Channel.fax,
                             body="Our notice.")  # fmt: skip
    session.commit()
    action = f"/letters/{first.id}/chaser"
    assert client.get(action, follow_redirects=False).status_code in (303, 401, 403)
    sign_in(client, credentials, "organizer")
    page = client.get(action).text
    fields = defaults(page, action)
    body = dict(fields)["body"]
    assert body.startswith(f"To {ice(session).name}:\n\nOn October 7, 2010, Marin County")
    assert "On October 7, 2010, Marin County wrote to you by fax" in body
    assert 'under the subject "Notice"' in body and "due on November 6, 2010" in body
    assert "we have not received one" in body and "Our notice." in body
    before = count_letters(session)
    early = client.post(action, data=dict(fields) | {"sent_on": "2010-10-01"})
    assert (
        early.status_code == 422 and 'id="e-sent_on">is before the letter it follows' in early.text
    )
    fields = defaults(early.text, action)
    assert dict(fields)["sent_on"] == "2010-10-01"  # kept, to correct
    fields = [*(p for p in fields if p[0] != "sent_on"), ("sent_on", today().isoformat())]
    saved = client.post(action, data=dict(fields), follow_redirects=False)
    twice = client.post(action, data=dict(fields), follow_redirects=False)
    assert saved.status_code == twice.status_code == 303, saved.text
    assert count_letters(session) == before + 1
    chaser = session.scalars(sa.select(Letter).order_by(col(Letter.id).desc())).first()
    assert chaser is not None and saved.headers["location"] == f"/letters/{chaser.id}"
    assert chaser.purpose is LetterPurpose.follow_up and chaser.follows_letter_id == first.id
    assert chaser.agency_id == first.agency_id and chaser.subject == "Follow-up: Notice"
    shown = client.get(f"/letters/{chaser.id}").text
    assert f'<a href="/letters/{first.id}">the letter of Oct 7, 2010</a>' in shown


# Exports and imports carry the new fields


def test_the_letters_export_and_import_carry_the_text_and_the_letter_followed(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    j = factories.jurisdiction(session, MARIN)
    first = factories.letter(session, j, ice(session), body="Our notice — é.")
    other = factories.letter(session, factories.jurisdiction(session, "06085"), ice(session))
    session.commit()
    read = credentials.headers("read")
    exported = client.get(f"{API}/export/letters.csv?jurisdiction_id={j.id}", headers=read)
    header = exported.text.splitlines()[0].split(",")
    assert "body" in header and "follows_letter_id" in header
    assert "Our notice — é." in exported.text
    headers = {**credentials.headers("write"), "Content-Type": "text/csv"}
    rows = "jurisdiction_fips,agency_id,sent_on,purpose,follows_letter_id,body\r\n"
    good = f"{MARIN},{ice(session).id},2010-12-01,follow_up,{first.id},We wrote before.\r\n"
    bad = f"{MARIN},{ice(session).id},2010-12-01,follow_up,{other.id},Elsewhere.\r\n"
    refused = client.post(f"{API}/import/letters", content=rows + good + bad, headers=headers)
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["row 3: follows_letter_id"]
    done = client.post(f"{API}/import/letters", content=rows + good, headers=headers)
    assert done.status_code == 200, done.text
    chaser = session.get(Letter, done.json()["created_ids"][0])
    assert chaser is not None and chaser.follows_letter_id == first.id
    assert chaser.body == "We wrote before."


def test_a_forged_recipient_is_a_form_error(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    factories.jurisdiction(session, MARIN)
    session.commit()
    sign_in(client, credentials, "organizer")
    action = f"/jurisdictions/{SLUG}/notice"
    fields = [(k, v) for k, v in defaults(client.get(action).text, action) if k != "recipients"]
    before = count_letters(session)
    for forged in ("99999999999", "2000000"):
        r = client.post(action, data=as_form([*fields, ("recipients", forged)]))
        assert r.status_code == 422 and 'id="e-recipients"' in r.text, r.text
    assert count_letters(session) == before


def test_head_answers_like_get_for_a_letter(client: TestClient, session: Session) -> None:
    x = factories.letter(session, factories.jurisdiction(session, MARIN), ice(session))
    session.commit()
    for path in (f"/letters/{x.id}", f"/letters/{x.id}.pdf"):
        assert client.head(path).status_code == 200, path


def test_the_api_writes_a_given_text_and_subject_to_each_recipient(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    j = factories.jurisdiction(session, MARIN)
    session.commit()
    write = {"Authorization": f"Bearer {credentials.token('write')}"}
    body = {"sent_on": "2010-10-07", "signed_by": "Chair", "recipients": [ice(session).id],
            "subject": "Our notice", "body": "Marin County opts out — é."}  # fmt: skip
    r = client.post(f"{API}/jurisdictions/{j.id}/notices", json=body, headers=write)
    assert r.status_code == 201, r.text
    [sent] = r.json()["letters"]
    assert (sent["agency_id"], sent["subject"], sent["body"]) == (
        ice(session).id, "Our notice", "Marin County opts out — é."
    )  # fmt: skip
    assert sent["response_due_on"] == "2010-11-06"
