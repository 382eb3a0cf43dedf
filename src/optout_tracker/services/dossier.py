"""What a jurisdiction's dossier shows: its record, a page of its timeline, the notice
facts, its change history, and what the forms that log its events offer."""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlmodel import Session, col

from ..clock import today
from ..enums import Access, AgencyKind, JurisdictionKind
from ..i18n import gettext
from ..models import Agency, AuditEntry, Document, Letter, Response
from ..schemas import JurisdictionPublic, PageParams, TimelineEntry
from ..security import Principal
from ..status import NextStep, next_steps
from ..wording import day, words
from . import (
    campaign,
    documents,
    jurisdictions,
    map_pages,
    public,
    status_as_of,
    status_projection,
)

DOSSIER_EVENTS = 50  # the dossier shows the latest events; earlier ones a page at a time
HISTORY_ENTRIES = 50  # the latest changes to the record
ANSWERABLE_LETTERS = 200  # the letters a logged response may answer, newest first


@dataclass(frozen=True)
class Dossier:
    j: JurisdictionPublic  # without private fields for those who may not read them
    timeline: list[TimelineEntry]
    params: PageParams
    total: int
    agency_names: dict[int, str]
    activated_despite: bool  # the program went live though notice was given before that day
    first_notice: date | None
    sib: Agency | None
    ice: Agency | None
    correspondents: list[tuple[int, str]]  # national offices and this state's agencies
    history: list[AuditEntry]
    can_write: bool
    answerable: list[tuple[int, str]]  # on the forms only: the letters a response may answer
    share: map_pages.ShareCard
    next_steps: list[NextStep]  # what the campaign asks for as of the day shown
    today: bool  # shown as of today (else as of `j.as_of`)
    documents: list["Attached"]  # of its letters and responses, those the reader may see


@dataclass(frozen=True)
class Attached:
    """A document on the dossier, with the record it belongs to in words and its link."""

    document: Document
    of: str  # "the letter of Oct 7, 2010 to ICE"
    href: str


def dossier(
    session: Session,
    key: str,
    principal: Principal,
    offset: int | None = None,
    *,
    forms: bool = False,
    as_of: date | None = None,
) -> Dossier:
    """The dossier of the jurisdiction `key` (slug or FIPS) as `principal` may see it, its
    status as of `as_of` (None: today): the latest events, or those from `offset`; with
    `forms`, the letters a response may answer."""
    j, status = jurisdictions.get_by_key(session, key)
    jurisdiction_id = j.id or 0
    if not status_as_of.is_stored(as_of):
        j, status, _ = jurisdictions.read(session, jurisdiction_id, as_of)
    on = as_of or today()
    shown = public.jurisdiction(j, status, on)
    total = campaign.count_events(session, jurisdiction_id)
    latest = max(total - DOSSIER_EVENTS, 0)
    params = PageParams(limit=DOSSIER_EVENTS, offset=latest if offset is None else offset)
    # Every agency, once: a few dozen rows name the letters' recipients and the notice's two.
    every_agency = list(session.scalars(sa.select(Agency).order_by(col(Agency.id))))
    agency_names = {a.id or 0: a.name for a in every_agency}
    first_notice = campaign.first_notice_on(session, jurisdiction_id)
    history = list(
        session.scalars(
            sa.select(AuditEntry)
            .where(col(AuditEntry.jurisdiction_id) == j.id)
            .order_by(col(AuditEntry.id).desc())
            .limit(HISTORY_ENTRIES)
        )
    )
    letters = campaign.latest_letters(session, jurisdiction_id, ANSWERABLE_LETTERS) if forms else []
    answerable = [
        (
            x.id or 0,
            gettext("{day} to {agency}: {purpose}").format(
                day=day(x.sent_on),
                agency=_agency(agency_names, x.agency_id),
                purpose=words(x.purpose),
            ),
        )
        for x in letters
    ]
    return Dossier(
        j=shown if principal.can(Access.read) else shown.hide_private(),
        timeline=campaign.events(session, jurisdiction_id, params, total),
        params=params,
        total=total,
        agency_names=agency_names,
        activated_despite=shown.activated_despite_opt_out,
        first_notice=first_notice,
        sib=_first(every_agency, AgencyKind.state_identification_bureau, j.state),
        ice=_first(every_agency, AgencyKind.ice),
        correspondents=sorted(
            ((a.id or 0, a.name) for a in every_agency if a.state in (None, j.state)),
            key=lambda pair: pair[1],
        ),
        history=history,
        can_write=principal.can(Access.write),
        answerable=answerable,
        share=_share_card(shown.hide_private()),
        next_steps=next_steps(
            *status_projection.facts_of(session, jurisdiction_id),
            on,
            scheduled_activation_on=j.scheduled_activation_on,
            activated_on=j.activated_on,
        ),
        today=status_as_of.is_stored(as_of),
        documents=_attached(session, jurisdiction_id, principal, agency_names),
    )


def _attached(
    session: Session, jurisdiction_id: int, principal: Principal, names: dict[int, str]
) -> list[Attached]:
    """The jurisdiction's documents the reader may see, each with its letter or response."""
    found = documents.of_jurisdiction(session, jurisdiction_id, principal)
    if not found:
        return []
    letter_ids = {d.letter_id for d in found if d.letter_id}
    response_ids = {d.response_id for d in found if d.response_id}
    sent = session.execute(
        sa.select(col(Letter.id), col(Letter.sent_on), col(Letter.agency_id)).where(
            col(Letter.id).in_(letter_ids)
        )
    ).all()
    received = session.execute(
        sa.select(col(Response.id), col(Response.received_on), col(Response.agency_id)).where(
            col(Response.id).in_(response_ids)
        )
    ).all()
    letters = {
        i: gettext("the letter of {day} to {agency}").format(day=day(on), agency=_agency(names, a))
        for i, on, a in sent
    }
    answers = {
        i: gettext("the response of {day} from {agency}").format(
            day=day(on), agency=_agency(names, a)
        )
        for i, on, a in received
    }
    return [
        Attached(d, letters[d.letter_id], f"/letters/{d.letter_id}")
        if d.letter_id
        else Attached(d, answers[d.response_id or 0], f"/responses/{d.response_id}")
        for d in found
    ]


def _agency(names: dict[int, str], agency_id: int) -> str:
    return names.get(agency_id) or gettext("an agency")


def _share_card(j: JurisdictionPublic) -> map_pages.ShareCard:
    """What a link to the dossier previews as: its status sentence over its state's map."""
    status, since, reason = j.status.label, j.status_since, j.status_reason
    if since and reason:
        description = gettext("{status} since {day}: {reason}.")
    elif since:
        description = gettext("{status} since {day}.")
    else:
        description = gettext("{status}: {reason}.") if reason else gettext("{status}.")
    return map_pages.ShareCard(
        title=j.name if j.kind is JurisdictionKind.state else f"{j.name}, {j.state}",  # as <title>
        description=description.format(status=status, day=day(since), reason=reason),
        path=f"/jurisdictions/{j.slug}",
        image=map_pages.share_image(j.state, j.fips),
    )


def _first(every: list[Agency], kind: AgencyKind, state: str | None = None) -> Agency | None:
    """The first agency of this kind (and state), by id, as agencies.state_bureau finds it."""
    return next((a for a in every if a.kind is kind and (state is None or a.state == state)), None)
