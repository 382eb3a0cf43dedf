"""What a jurisdiction's dossier shows: its record, a page of its timeline, the notice
facts, its change history, and what the forms that log its events offer."""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlmodel import Session, col

from ..enums import STATUS_LABELS, Access, AgencyKind, JurisdictionKind
from ..models import Agency, AuditEntry
from ..schemas import JurisdictionPublic, PageParams, TimelineEntry
from ..security import Principal
from ..wording import day, words
from . import campaign, jurisdictions, map_pages, public

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


def dossier(
    session: Session,
    key: str,
    principal: Principal,
    offset: int | None = None,
    *,
    forms: bool = False,
) -> Dossier:
    """The dossier of the jurisdiction `key` (slug or FIPS) as `principal` may see it: the
    latest events, or those from `offset`; with `forms`, the letters a response may answer."""
    j, status = jurisdictions.get_by_key(session, key)
    shown = public.jurisdiction(j, status)
    jurisdiction_id = j.id or 0
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
        (x.id or 0, f"{day(x.sent_on)} to {agency_names.get(x.agency_id, '?')}: {words(x.purpose)}")
        for x in letters
    ]
    return Dossier(
        j=shown if principal.can(Access.read) else shown.hide_private(),
        timeline=campaign.events(session, jurisdiction_id, params, total),
        params=params,
        total=total,
        agency_names=agency_names,
        activated_despite=j.activated_on is not None
        and first_notice is not None
        and first_notice <= j.activated_on,
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
    )


def _share_card(j: JurisdictionPublic) -> map_pages.ShareCard:
    """What a link to the dossier previews as: its status sentence over its state's map."""
    since = f" since {day(j.status_since)}" if j.status_since else ""
    reason = f": {j.status_reason}" if j.status_reason else ""
    return map_pages.ShareCard(
        title=j.name if j.kind is JurisdictionKind.state else f"{j.name}, {j.state}",  # as <title>
        description=f"{STATUS_LABELS[j.status]}{since}{reason}.",
        path=f"/jurisdictions/{j.slug}",
        image=map_pages.share_image(j.state, j.fips),
    )


def _first(every: list[Agency], kind: AgencyKind, state: str | None = None) -> Agency | None:
    """The first agency of this kind (and state), by id, as agencies.state_bureau finds it."""
    return next((a for a in every if a.kind is kind and (state is None or a.state == state)), None)
