"""The follow-up list: every open campaign's next steps (status.next_steps) as of today.

The stored projection narrows the work: only jurisdictions whose own campaign is under way
and not closed can have next steps, so only their facts are read and derived (a few
hundred at most, of 3,000+), four queries per 500 of them.
"""

from datetime import date

import sqlalchemy as sa
from sqlmodel import Session, col

from ..clock import today
from ..i18n import gettext
from ..models import Jurisdiction, JurisdictionStatus
from ..schemas import FollowUpFilters, FollowUpItem
from ..status import (
    ONE_DAY,
    UNDER_WAY,
    LetterFact,
    NextStep,
    Step,
    next_steps,
)
from ..wording import day
from . import status_projection

J, S = Jurisdiction, JurisdictionStatus
STEP_ORDER = {step: rank for rank, step in enumerate(Step)}


def items(
    session: Session,
    *,
    state: str | None = None,
    step: Step | None = None,
    jurisdiction_ids: set[int] | None = None,
) -> list[FollowUpItem]:
    """Every next step as of today, oldest first (then by place and step), in `state` and of
    `step` when given, of these jurisdictions only when given."""
    on = today()
    stmt = (
        sa.select(*(col(c) for c in (J.id, J.name, J.slug, J.state)))
        .add_columns(col(J.scheduled_activation_on), col(J.activated_on))
        .join(S, col(S.jurisdiction_id) == J.id)
        .where(col(S.status).in_(UNDER_WAY), col(S.campaign_closed_on).is_(None))
    )
    if state:
        stmt = stmt.where(col(J.state) == state)
    if jurisdiction_ids is not None:
        stmt = stmt.where(col(J.id).in_(sorted(jurisdiction_ids)))
    places = {row[0]: row for row in session.execute(stmt)}
    facts = status_projection.facts_of_many(session, sorted(places))
    found = []
    for jurisdiction_id, (_, name, slug, code, scheduled_on, activated_on) in places.items():
        votes, letters, responses, announced = facts[jurisdiction_id]
        for s in next_steps(
            votes, letters, responses, announced, on,
            scheduled_activation_on=scheduled_on, activated_on=activated_on,
        ):  # fmt: skip
            if step is not None and s.step is not step:
                continue
            chased = next((x for x in letters if x.id == s.letter_id), None)
            found.append(
                FollowUpItem(
                    jurisdiction_id=jurisdiction_id,
                    step=s.step,
                    due_on=s.due_on,
                    detail=gettext("{place}, {state}: {detail}").format(
                        place=name, state=code, detail=_detail(s, chased, scheduled_on)
                    ),
                    jurisdiction_name=name,
                    jurisdiction_slug=slug,
                    state=code,
                    letter_id=chased.id if chased else None,
                )
            )
    return sorted(found, key=lambda i: (i.due_on, i.jurisdiction_name, STEP_ORDER[i.step]))


NOTICE_STEPS = frozenset({Step.send_notice, Step.notify_sib, Step.notify_ice})


def action(item: FollowUpItem) -> tuple[str, str] | None:
    """What an organizer does about an item, and at which path: on /follow-up and in mail."""
    if item.step is Step.chase and item.letter_id:
        return gettext("Write the chaser"), f"/letters/{item.letter_id}/chaser"
    if item.step in NOTICE_STEPS:
        return gettext("Prepare the notice"), f"/jurisdictions/{item.jurisdiction_slug}/notice"
    return None


def page(session: Session, params: FollowUpFilters) -> tuple[list[FollowUpItem], int]:
    """One page of the list, and how many items it has in all."""
    every = items(session, state=params.state, step=params.step)
    return every[params.offset : params.offset + params.limit], len(every)


def _detail(s: NextStep, chased: LetterFact | None, scheduled_on: date | None) -> str:
    due, since = day(s.due_on), day(s.due_on - ONE_DAY)
    match s.step:
        case Step.send_notice:
            said = gettext("an opt-out vote passed on {day}; no written notice has been sent.")
            return said.format(day=due)
        case Step.notify_sib:
            said = gettext(
                "notice went to ICE on {day}, not yet to the state identification bureau."
            )
            return said.format(day=due)
        case Step.notify_ice:
            said = gettext(
                "notice went to the state identification bureau on {day}, not yet to ICE."
            )
            return said.format(day=due)
        case Step.chase if chased is not None:
            sent, agency = day(chased.sent_on), chased.agency_name
            if chased.response_due_on == s.due_on - ONE_DAY:
                said = gettext("the answer to the letter of {sent} to {agency} was due on {day}.")
            else:
                said = gettext(
                    "the answer to the letter of {sent} to {agency} is still awaited; "
                    "the follow-up's was due on {day}."
                )
            return said.format(sent=sent, agency=agency, day=since)
        case Step.chase:
            return gettext("an answer was due on {day}.").format(day=since)
        case Step.log_outcome:
            return gettext("a vote was scheduled for {day}; its outcome is not logged.").format(
                day=since
            )
        case _:
            said = gettext("activation was scheduled for {day}; whether it happened is not logged.")
            return said.format(day=day(scheduled_on))
