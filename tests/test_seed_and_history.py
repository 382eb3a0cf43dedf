"""Reference data and the historical dataset, loaded into a real database."""

import dataclasses
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col

from optout_tracker.enums import (
    AgencyKind,
    AnnouncementEffect,
    CampaignStatus,
    JurisdictionKind,
    ResponseKind,
    VoteOutcome,
    VoteTopic,
)
from optout_tracker.history import (
    ACTIVATED,
    CURATED,
    OffMap,
    UncuratedRows,
    load_history,
    read_history,
    spec_key,
    uncurated,
)
from optout_tracker.models import (
    Agency,
    Announcement,
    AuditEntry,
    DatasetRecord,
    Jurisdiction,
    JurisdictionStatus,
    Letter,
    Response,
    Vote,
)
from optout_tracker.seed import seed
from optout_tracker.services import status_projection
from tests import factories, legacy_history

RECORDS = (Vote, Letter, Response, Announcement)


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


@pytest.mark.history
def test_history_gives_santa_clara_its_vote(session: Session) -> None:
    santa_clara = factories.jurisdiction(session, "06085")
    status = session.get(JurisdictionStatus, santa_clara.id)
    assert status is not None
    # Its opt-out vote passed; ICE's letter of Aug 5, 2011 then denied every such campaign.
    assert status.status is CampaignStatus.denied
    assert status.status_since == date(2011, 8, 5)
    assert str(status.status_reason).startswith(
        "ICE Secure Communities announced on August 5, 2011"
    )
    vote = session.scalars(
        sa.select(Vote).filter_by(jurisdiction_id=santa_clara.id, held_on=date(2010, 9, 28))
    ).one()
    assert (vote.yes, vote.no, vote.body) == (5, 0, "Board of Supervisors")
    assert (vote.topic, vote.outcome) == (VoteTopic.opt_out, VoteOutcome.passed)
    assert vote.source_url and vote.source_url.startswith("https://www.mercurynews.com/")
    assert "counsel.sccgov.org" in (vote.public_notes or "")  # the second source is kept
    assert santa_clara.activated_on == date(2010, 5, 4)


@pytest.mark.history
def test_history_maps_the_documented_campaigns(session: Session) -> None:
    def status_of(fips: str) -> JurisdictionStatus:
        row = session.get(JurisdictionStatus, factories.jurisdiction(session, fips).id)
        assert row is not None
        return row

    assert status_of("51013").status is CampaignStatus.denied  # Arlington: ICE said no
    assert status_of("51013").status_since == date(2011, 3, 1)
    sf = status_of("06075")
    assert sf.status is CampaignStatus.denied and sf.sib_notified and sf.ice_notified
    # The states' letters to ICE, denied by ICE's letter of Aug 5, 2011; New York's went to
    # DHS, which counts as ICE notice.
    for state in ("17", "36", "25"):
        assert status_of(state).status is CampaignStatus.denied, state
        assert status_of(state).status_since == date(2011, 8, 5) and status_of(state).ice_notified
        assert status_of(state).campaign_closed_on == date(2014, 11, 20)

    sf_id = factories.jurisdiction(session, "06075").id
    denial = session.scalars(sa.select(Response).filter_by(jurisdiction_id=sf_id)).one()
    answered = session.get(Letter, denial.letter_id)
    assert denial.kind is ResponseKind.denied and answered is not None
    assert answered.sent_on == date(2010, 5, 18) and answered.response_due_on == date(2010, 6, 17)
    assert factories.jurisdiction(session, "51").activated_on == date(2010, 6, 21)
    ice = session.scalars(sa.select(Agency).filter_by(kind=AgencyKind.ice)).one()
    memo = session.scalars(sa.select(Announcement).filter_by(announced_on=date(2010, 8, 17))).one()
    assert (memo.agency_id, memo.scope, memo.effect) == (
        ice.id,
        "national",
        AnnouncementEffect.none,
    )
    assert (
        memo.source_url
        == "https://www.nilc.org/issues/immigration-enforcement/scomm-no-rules-of-road-2011-03-0/"
    )
    assert "Setting the Record Straight" in (memo.summary or "")
    assert "2010-08-17" not in (ice.notes or "")  # a record now, not a note


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


@pytest.mark.history  # the history is loaded: this test loads it again
def test_history_is_idempotent_and_keeps_edits(session: Session) -> None:
    harris = factories.jurisdiction(session, "48201")
    harris.activated_on = date(2008, 10, 28)  # an organizer corrected it
    session.flush()
    totals = [count(session, m) for m in RECORDS]
    notes = factories.jurisdiction(session, "06085").public_notes

    again = load_history(session, 30)

    assert str(again) == (
        "set 0 activation dates; added 0 votes, 0 letters, 0 responses, 0 announcements and 0 notes"
    )
    assert [count(session, m) for m in RECORDS] == totals
    assert factories.jurisdiction(session, "06085").public_notes == notes
    assert factories.jurisdiction(session, "48201").activated_on == date(2008, 10, 28)


def test_the_table_covers_every_row_of_the_file_and_nothing_else() -> None:
    rows = read_history()
    assert uncurated(rows) == []
    assert set(CURATED) == {r.curated_key for r in rows if r.event_kind != ACTIVATED}
    # The one row that stays a note, and why: Puerto Rico is not on the shipped map.
    kept_as_notes = [
        key for key, specs in CURATED.items() if any(isinstance(s, OffMap) for s in specs)
    ]
    assert kept_as_notes == [("72", "2010-12-03", "state_moa_signed")]


def test_a_row_the_table_does_not_cover_stops_the_load(session: Session) -> None:
    (row,) = [
        r for r in read_history() if r.curated_key == ("36", "2010-12-28", "state_moa_signed")
    ]
    unknown = dataclasses.replace(row, date_text="2010-12-29")
    with pytest.raises(UncuratedRows, match="36 2010-12-29 state_moa_signed"):
        load_history(session, 30, rows=[row, unknown])
    assert count(session, Announcement) == 0  # nothing of it was applied


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


@pytest.mark.history
def test_every_row_of_the_file_is_accounted_for(session: Session) -> None:
    rows = read_history()
    keys = set(session.scalars(sa.select(col(DatasetRecord.key))))
    expected = {row.key for row in rows if row.event_kind == ACTIVATED} | {
        spec_key(row, n, spec)
        for row in rows
        for n, spec in enumerate(CURATED.get(row.curated_key, ()))
    }
    assert keys == expected


@pytest.mark.history  # the history is loaded: this test loads it again
def test_a_rerun_adds_nothing_even_after_users_edited_what_it_made(session: Session) -> None:
    santa_clara = factories.jurisdiction(session, "06085")
    vote = session.scalars(
        sa.select(Vote).filter_by(jurisdiction_id=santa_clara.id, held_on=date(2010, 9, 28))
    ).one()
    vote.body = "Santa Clara County Board of Supervisors"
    santa_clara.public_notes = "Rewritten by an organizer."
    meeting = session.scalars(sa.select(Response).filter_by(kind=ResponseKind.meeting_held)).one()
    session.delete(meeting)  # an organizer removed it
    session.flush()
    totals = [count(session, m) for m in RECORDS]

    again = load_history(session, 30)

    assert (again.votes, again.letters, again.responses, again.notes) == (0, 0, 0, 0)
    assert again.announcements == 0
    assert [count(session, m) for m in RECORDS] == totals
    assert santa_clara.public_notes == "Rewritten by an organizer."


@pytest.mark.history
def test_activation_dates_carry_their_source(session: Session) -> None:
    harris = factories.jurisdiction(session, "48201")
    assert harris.activated_on == date(2008, 10, 27)
    assert "2008-10-27: ICE Secure Communities activation" in (harris.public_notes or "")
    assert "White(2016)" in (harris.public_notes or "")


@pytest.mark.history
def test_every_record_keeps_the_sources_of_its_row(session: Session) -> None:
    made = {r.key: (r.entity, r.entity_id) for r in session.scalars(sa.select(DatasetRecord))}
    models: dict[str, type[Any]] = {
        "vote": Vote,
        "letter": Letter,
        "response": Response,
        "announcement": Announcement,
    }
    checked = 0
    for row in read_history():
        for n, spec in enumerate(CURATED.get(row.curated_key, ())):
            entity, entity_id = made[spec_key(row, n, spec)]
            if entity not in models:
                continue
            record = session.get(models[entity], entity_id)
            assert record is not None, row
            url = getattr(record, "source_url", None) or getattr(record, "document_url", None)
            told = " ".join(
                filter(None, (getattr(record, f, None) for f in ("summary", "public_notes")))
            )
            assert url == row.source_url, row
            assert row.detail in told, row
            for other in (s for s in row.sources if s != row.source_url):
                assert other in told, (row, other)
            checked += 1
    assert checked == 72  # 49 announcements, 11 votes, 8 letters (SF wrote twice) and 4 answers


@pytest.mark.history
def test_a_month_only_date_says_so(session: Session) -> None:
    moa = session.scalars(sa.select(Announcement).filter_by(scope="DC")).one()
    assert moa.announced_on == date(2009, 11, 1)
    assert "Date known only to the month (2009-11); recorded as 2009-11-01." in (moa.summary or "")


@pytest.mark.history
def test_the_federal_rows_are_national_announcements_with_their_effects(session: Session) -> None:
    national = session.scalars(
        sa.select(Announcement).filter_by(scope="national").order_by(col(Announcement.announced_on))
    ).all()
    kinds = {a.id: a.kind for a in session.scalars(sa.select(Agency))}
    assert [(str(a.announced_on), a.effect.value, kinds[a.agency_id].value) for a in national] == [
        ("2008-10-27", "none", "ice"),
        ("2010-08-17", "none", "ice"),
        ("2011-08-05", "opt_out_denied", "ice"),
        ("2014-11-20", "program_ended", "dhs"),
        ("2015-07-02", "none", "ice"),
        ("2017-01-25", "none", "dhs"),
    ]
    moas = session.scalars(sa.select(Announcement).where(col(Announcement.scope) != "national"))
    by_scope = sorted(a.scope for a in moas)
    assert len(by_scope) == 43  # 39 state MOAs on the map, DC's, IL's suspension, CO's two
    assert set(by_scope) >= {"CA", "IL", "NY", "CO", "DC", "VA"}


@pytest.mark.history
def test_a_statewide_activation_fills_the_counties_without_an_earlier_date(
    session: Session,
) -> None:
    emporia = factories.jurisdiction(session, "51595")  # no date of its own in the file
    assert emporia.activated_on == date(2010, 6, 21)
    assert "with all of Virginia (no county date)" in (emporia.public_notes or "")
    assert factories.jurisdiction(session, "51013").activated_on == date(2010, 4, 1)  # earlier
    bristol = factories.jurisdiction(session, "25005")  # "2012-05": the 1st, before May 15
    assert bristol.activated_on == date(2012, 5, 1)


def test_a_statewide_activation_replaces_a_later_date_of_the_file_but_not_a_users(
    session: Session,
) -> None:
    (statewide,) = [r for r in read_history() if r.curated_key[2] == "statewide_activation"][:1]
    later = dataclasses.replace(
        statewide,
        jurisdiction="Fairfax",
        fips="51059",
        event_kind=ACTIVATED,
        date_text="2010-09-01",
    )
    fairfax, loudoun = (
        factories.jurisdiction(session, "51059"),
        factories.jurisdiction(session, "51107"),
    )
    loudoun.activated_on = date(2010, 12, 1)  # an organizer's date, later than the state's
    session.flush()

    load_history(session, 30, rows=[later, statewide])

    assert fairfax.activated_on == date(2010, 6, 21)
    assert "ICE's county data says 2010-09-01" in (fairfax.public_notes or "")
    assert loudoun.activated_on == date(2010, 12, 1)


def test_loading_again_upgrades_a_demo_of_the_earlier_release(session: Session) -> None:
    """A database loaded by the release that kept most rows as notes: loading again makes
    each of them its record, takes the note line out, and duplicates nothing."""
    legacy_history.load_history(session, 30)
    # The notes of rows that are records now (a statewide activation's stays: it is a date).
    old_notes = {
        row.note()
        for row in legacy_history.read_history()
        if row.event_kind not in {ACTIVATED, "statewide_activation"}
    }
    ice = session.scalars(sa.select(Agency).filter_by(kind=AgencyKind.ice)).one()
    assert "Setting the Record Straight" in (ice.notes or "")
    before = [count(session, m) for m in RECORDS]
    assert before[3] == 0  # no announcements yet

    report = load_history(session, 30)

    assert (report.votes, report.letters, report.responses, report.announcements) == (9, 0, 1, 49)
    assert report.notes_replaced == 39 + 6 + 14  # MOAs (PR's stays), federal rows, the rest
    assert [count(session, m) for m in RECORDS] == [11, 8, 4, 49]  # as a fresh load makes
    every_note = "\n".join(
        [*(j.public_notes or "" for j in session.scalars(sa.select(Jurisdiction))), ice.notes or ""]
    ).splitlines()
    assert [line for line in every_note if line in old_notes] == []
    assert any(line.startswith("Puerto Rico: 2010-12-03") for line in every_note)
    edits = session.scalars(
        sa.select(AuditEntry).filter_by(entity="jurisdiction", action="update")
    ).all()
    assert edits  # taking the notes out is audited, by the CLI
    assert factories.jurisdiction(session, "51595").activated_on == date(2010, 6, 21)
    il = session.get(JurisdictionStatus, factories.jurisdiction(session, "17").id)
    assert il is not None and il.status is CampaignStatus.denied

    again = load_history(session, 30)
    assert (again.votes, again.announcements, again.notes, again.notes_replaced) == (0, 0, 0, 0)
