"""Reference data and the historical dataset, loaded into a real database."""

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from optout_tracker.enums import AgencyKind, CampaignStatus, JurisdictionKind, ResponseKind
from optout_tracker.history import CURATED, load_history, read_history
from optout_tracker.models import (
    Agency,
    DatasetRecord,
    Jurisdiction,
    JurisdictionStatus,
    Letter,
    Response,
    Vote,
)
from optout_tracker.seed import seed
from optout_tracker.services import status_projection
from tests import factories


def count(session: Session, model: type, *where: Any) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0


def test_seed_loads_states_dc_counties_and_agencies(session: Session) -> None:
    assert count(session, Jurisdiction, col(Jurisdiction.kind) == JurisdictionKind.state) == 50
    assert count(session, Jurisdiction, col(Jurisdiction.kind) == JurisdictionKind.county) == 3141
    dc = session.scalars(sa.select(Jurisdiction).filter_by(slug="dc")).one()
    assert (dc.kind, dc.fips, dc.ocd_id) == (
        JurisdictionKind.federal_district,
        "11001",
        "ocd-division/country:us/district:dc",
    )
    ca = session.scalars(sa.select(Jurisdiction).filter_by(slug="ca")).one()
    santa_clara = factories.jurisdiction(session, "06085")
    assert santa_clara.parent_id == ca.id and santa_clara.slug == "ca-santa-clara-county"
    assert count(session, Jurisdiction, col(Jurisdiction.parent_id).is_(None)) == 51
    assert count(session, JurisdictionStatus) == count(session, Jurisdiction)
    sibs = count(session, Agency, col(Agency.kind) == AgencyKind.state_identification_bureau)
    assert sibs == 51  # 50 states and DC
    assert count(session, Agency, col(Agency.kind).in_([AgencyKind.ice, AgencyKind.dhs])) == 2


def test_baltimore_city_and_county_are_distinct(session: Session) -> None:
    city, county = (
        factories.jurisdiction(session, "24510"),
        factories.jurisdiction(session, "24005"),
    )
    assert (city.name, county.name) == ("Baltimore city", "Baltimore County")
    assert city.slug != county.slug and city.ocd_id != county.ocd_id


def test_seed_is_idempotent_and_keeps_edits(session: Session) -> None:
    santa_clara = factories.jurisdiction(session, "06085")
    santa_clara.name = "County of Santa Clara"
    sib = session.scalars(sa.select(Agency).filter_by(state="CA")).one()
    sib.name = "California DOJ Bureau of Criminal Identification"
    session.flush()
    before = count(session, Jurisdiction), count(session, Agency)

    report = seed(session)

    assert (report.jurisdictions, report.agencies) == (0, 0)
    assert (count(session, Jurisdiction), count(session, Agency)) == before
    session.refresh(santa_clara)
    session.refresh(sib)
    assert santa_clara.name == "County of Santa Clara"
    assert sib.name == "California DOJ Bureau of Criminal Identification"


def test_history_gives_santa_clara_its_vote(session: Session) -> None:
    load_history(session, 30)
    santa_clara = factories.jurisdiction(session, "06085")
    status = session.get(JurisdictionStatus, santa_clara.id)
    assert status is not None
    assert status.status is CampaignStatus.vote_passed
    assert status.status_since == date(2010, 9, 28)
    assert status.status_reason == "Board of Supervisors voted 5–0 to opt out"
    vote = session.scalars(
        sa.select(Vote).filter_by(jurisdiction_id=santa_clara.id, held_on=date(2010, 9, 28))
    ).one()
    assert (vote.yes, vote.no, vote.body) == (5, 0, "Board of Supervisors")
    assert vote.source_url and vote.source_url.startswith("https://www.mercurynews.com/")
    assert "counsel.sccgov.org" in (vote.public_notes or "")  # the second source is kept
    assert santa_clara.activated_on == date(2010, 5, 4)


def test_history_maps_the_documented_campaigns(session: Session) -> None:
    load_history(session, 30)

    def status_of(fips: str) -> JurisdictionStatus:
        row = session.get(JurisdictionStatus, factories.jurisdiction(session, fips).id)
        assert row is not None
        return row

    assert status_of("51013").status is CampaignStatus.denied  # Arlington: ICE said no
    assert status_of("51013").status_since == date(2011, 3, 1)
    sf = status_of("06075")
    assert sf.status is CampaignStatus.notified and sf.sib_notified and sf.ice_notified
    assert status_of("17").status is CampaignStatus.notified  # Illinois' letter to ICE
    assert status_of("25").ice_notified  # Massachusetts
    # New York: its letter went to DHS, which counts as ICE notice
    assert status_of("36").status is CampaignStatus.notified and status_of("36").ice_notified

    sf_id = factories.jurisdiction(session, "06075").id
    denial = session.scalars(sa.select(Response).filter_by(jurisdiction_id=sf_id)).one()
    answered = session.get(Letter, denial.letter_id)
    assert denial.kind is ResponseKind.denied and answered is not None
    assert answered.sent_on == date(2010, 5, 18) and answered.response_due_on == date(2010, 6, 17)
    assert factories.jurisdiction(session, "51").activated_on == date(2010, 6, 21)
    ice = session.scalars(sa.select(Agency).filter_by(kind=AgencyKind.ice)).one()
    assert "2010-08-17" in (ice.notes or "") and "Setting the Record Straight" in (ice.notes or "")


def test_history_sets_every_activation_and_notes_month_only_dates(session: Session) -> None:
    report = load_history(session, 30)
    rows = read_history()
    activated = {r.fips for r in rows if r.event_kind == "activated"}
    assert report.off_map == ["Puerto Rico (FIPS 72)"]  # not on the shipped map: kept on ICE
    ice = session.scalars(sa.select(Agency).filter_by(kind=AgencyKind.ice)).one()
    assert "Puerto Rico: 2010-12-03: Secure Communities MOA" in (ice.notes or "")
    with_date = count(session, Jurisdiction, col(Jurisdiction.activated_on).is_not(None))
    assert with_date >= len(activated) - 1  # Bedford city (51515) lives on in Bedford County
    month_only = next(r for r in rows if r.event_kind == "activated" and r.month_only)
    j = factories.jurisdiction(session, month_only.fips)
    assert j.activated_on == month_only.on and j.activated_on.day == 1
    assert f"known only to the month ({month_only.date_text})" in (j.public_notes or "")
    bedford = factories.jurisdiction(session, "51019")
    assert "as Bedford City (FIPS 51515)" in (bedford.public_notes or "")


def test_history_is_idempotent_and_keeps_edits(session: Session) -> None:
    load_history(session, 30)
    harris = factories.jurisdiction(session, "48201")
    harris.activated_on = date(2008, 10, 28)  # an organizer corrected it
    session.flush()
    totals = [count(session, m) for m in (Vote, Letter, Response)]
    notes = factories.jurisdiction(session, "06085").public_notes

    again = load_history(session, 30)

    assert (again.activations, again.votes, again.letters, again.responses, again.notes) == (
        0,
        0,
        0,
        0,
        0,
    )
    assert [count(session, m) for m in (Vote, Letter, Response)] == totals
    assert factories.jurisdiction(session, "06085").public_notes == notes
    assert factories.jurisdiction(session, "48201").activated_on == date(2008, 10, 28)


def test_every_curated_key_matches_a_row_of_the_file() -> None:
    keys = {(r.fips, r.date_text) for r in read_history()}
    assert set(CURATED) <= keys


def test_projection_falls_back_when_the_deciding_event_is_deleted(session: Session) -> None:
    j = factories.jurisdiction(session, "06001")  # Alameda County
    ice = factories.agency(session, AgencyKind.ice)
    factories.vote(session, j, held_on=date(2010, 9, 28))
    letter = factories.letter(session, j, ice, sent_on=date(2010, 10, 7))
    denial = factories.response(session, j, ice, letter_id=letter.id, received_on=date(2011, 3, 1))
    assert session.get(JurisdictionStatus, j.id).status is CampaignStatus.denied  # type: ignore[union-attr]

    session.delete(denial)
    changes = status_projection.refresh(session, [j.id or 0])
    row = session.get(JurisdictionStatus, j.id)
    assert row is not None and row.status is CampaignStatus.notified and row.awaiting_response
    assert changes == [
        status_projection.StatusChange(j.id or 0, CampaignStatus.denied, CampaignStatus.notified)
    ]

    session.delete(letter)
    status_projection.refresh(session, [j.id or 0])
    session.refresh(row)
    assert row.status is CampaignStatus.vote_passed and not row.awaiting_response


def test_refresh_without_changes_keeps_the_revision(session: Session) -> None:
    j = factories.jurisdiction(session, "06001")
    factories.vote(session, j)
    row = session.get(JurisdictionStatus, j.id)
    assert row is not None
    revision = row.revision
    assert status_projection.refresh(session, [j.id or 0]) == []
    assert row.revision == revision


def test_overdue_is_derived_from_today(session: Session, monkeypatch) -> None:
    from optout_tracker.schemas import JurisdictionFilters
    from optout_tracker.services import jurisdictions

    j = factories.jurisdiction(session, "06001")
    factories.letter(session, j, factories.agency(session), sent_on=date(2024, 1, 1))
    due = date(2024, 1, 31)
    for today, expected in [(due, False), (due + timedelta(days=1), True)]:
        monkeypatch.setattr("optout_tracker.services.status_projection.today", lambda t=today: t)
        monkeypatch.setattr("optout_tracker.services.jurisdictions.today", lambda t=today: t)
        items, _ = jurisdictions.list_(session, JurisdictionFilters(fips="06001", overdue=expected))
        assert [i.fips for i in items] == ["06001"] and items[0].overdue is expected


def test_every_row_of_the_file_is_accounted_for(session: Session) -> None:
    load_history(session, 30)
    rows = read_history()
    keys = set(session.scalars(sa.select(col(DatasetRecord.key))))
    for row in rows:
        specs = CURATED.get((row.fips, row.date_text), ())
        expected = {f"{row.key}|{n}" for n in range(len(specs))} if specs else {row.key}
        assert expected <= keys, row
    assert len(keys) == sum(len(CURATED.get((r.fips, r.date_text), ())) or 1 for r in rows)


def test_a_rerun_adds_nothing_even_after_users_edited_what_it_made(session: Session) -> None:
    load_history(session, 30)
    santa_clara = factories.jurisdiction(session, "06085")
    vote = session.scalars(sa.select(Vote).filter_by(jurisdiction_id=santa_clara.id)).one()
    vote.body = "Santa Clara County Board of Supervisors"
    santa_clara.public_notes = "Rewritten by an organizer."
    meeting = session.scalars(sa.select(Response).filter_by(kind=ResponseKind.meeting_held)).one()
    session.delete(meeting)  # an organizer removed it
    session.flush()
    totals = [count(session, m) for m in (Vote, Letter, Response)]

    again = load_history(session, 30)

    assert (again.votes, again.letters, again.responses, again.notes) == (0, 0, 0, 0)
    assert [count(session, m) for m in (Vote, Letter, Response)] == totals
    assert santa_clara.public_notes == "Rewritten by an organizer."


def test_activation_dates_carry_their_source(session: Session) -> None:
    load_history(session, 30)
    harris = factories.jurisdiction(session, "48201")
    assert harris.activated_on == date(2008, 10, 27)
    assert "2008-10-27: ICE Secure Communities activation" in (harris.public_notes or "")
    assert "White(2016)" in (harris.public_notes or "")
