"""The campaign rules over time (design.md, "Campaign status"): as of a date, announcements,
closed campaigns, coverage through the state, activated despite opt-out, next steps; and
today's stored projection staying today's as the days pass."""

import sqlite3
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session

from optout_tracker import db, migrate
from optout_tracker.db import create_db_engine, unit_of_work
from optout_tracker.enums import (
    AgencyKind,
    AnnouncementEffect,
    CampaignStatus,
    JurisdictionKind,
    LetterPurpose,
    ResponseKind,
    VoteOutcome,
    VoteTopic,
)
from optout_tracker.models import Jurisdiction, JurisdictionStatus, Vote
from optout_tracker.services import public, status_projection
from optout_tracker.status import (
    OPEN,
    AnnouncementFact,
    CampaignState,
    Effective,
    Fact,
    LetterFact,
    ResponseFact,
    Step,
    VoteFact,
    activated_despite_opt_out,
    derive_status,
    effective_status,
    event_date,
    next_steps,
    opposed_on,
)
from optout_tracker.webhook_worker import Worker
from tests import factories
from tests.conftest import DatabaseFactory, make_settings

S, O, E, K = CampaignStatus, VoteOutcome, AnnouncementEffect, ResponseKind  # noqa: E741
DAY = timedelta(days=1)
EARLIER = date(2010, 9, 28)  # the campaign's own events
D = date(2011, 8, 5)  # ICE's letter: participation is not optional
ENDED = date(2014, 11, 20)  # DHS ends the program
REASON = "ICE announced on August 5, 2011: Participation is not optional"


def vote(outcome: VoteOutcome = O.passed, on: date = EARLIER, id: int = 1, **kw: Any) -> VoteFact:
    return VoteFact(id, on, outcome, "Board of Supervisors", **kw)


def letter(
    on: date = EARLIER,
    id: int = 1,
    to: AgencyKind = AgencyKind.ice,
    purpose: LetterPurpose = LetterPurpose.opt_out_request,
) -> LetterFact:
    return LetterFact(id, on, purpose, to, "ICE Secure Communities", on + timedelta(days=30))


def response(
    kind: ResponseKind, on: date = EARLIER, id: int = 1, letter_id: int | None = None
) -> ResponseFact:
    return ResponseFact(id, on, kind, "ICE Secure Communities", letter_id)


def announced(effect: AnnouncementEffect, on: date = D, id: int = 1) -> AnnouncementFact:
    return AnnouncementFact(id, on, effect, "ICE", "Participation is not optional")


def split(facts: tuple[Fact, ...]) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    kinds = (VoteFact, LetterFact, ResponseFact, AnnouncementFact)
    votes, letters, responses, announcements = ([f for f in facts if type(f) is k] for k in kinds)
    return votes, letters, responses, announcements


def derive(*facts: Fact, as_of: date) -> CampaignState:
    return derive_status(*split(facts), as_of)


def steps(
    *facts: Fact, as_of: date, scheduled: date | None = None, activated: date | None = None
) -> list[tuple[Step, date]]:
    found = next_steps(
        *split(facts), as_of, scheduled_activation_on=scheduled, activated_on=activated
    )
    return [(s.step, s.due_on) for s in found]


def decided(state: CampaignState) -> tuple[Any, ...]:
    reason = state.status_reason
    return (state.status, state.status_since, None if reason is None else str(reason))


# Time: only what is dated on or before as_of counts


STAGE_SETTING: list[Fact] = [
    vote(O.introduced),
    vote(O.scheduled),
    vote(O.failed),
    vote(O.passed),
    letter(),
    letter(to=AgencyKind.state_identification_bureau),
    letter(purpose=LetterPurpose.activation_delay_request),
    *(response(kind) for kind in ResponseKind if kind is not K.other),
]


@pytest.mark.parametrize("fact", STAGE_SETTING, ids=repr)
def test_an_event_counts_from_its_date_on_never_the_day_before(fact: Fact) -> None:
    before, on = derive(fact, as_of=EARLIER - DAY), derive(fact, as_of=EARLIER)
    assert decided(before) == (S.no_action, None, None)
    assert on.status is not S.no_action and on.status_since == EARLIER
    assert before.recompute_on == EARLIER and on.recompute_on is None


def test_a_letter_notifies_from_its_date_and_an_answer_answers_from_its_date() -> None:
    sent = letter(on=EARLIER, id=7)
    answer = response(K.acknowledged, on=EARLIER + 10 * DAY, letter_id=7)
    assert not derive(sent, answer, as_of=EARLIER - DAY).ice_notified
    waiting = derive(sent, answer, as_of=EARLIER + 9 * DAY)
    assert waiting.ice_notified and waiting.awaiting_response
    assert waiting.next_response_due_on == EARLIER + 30 * DAY
    answered = derive(sent, answer, as_of=EARLIER + 10 * DAY)
    assert not answered.awaiting_response and answered.next_response_due_on is None


def test_a_vote_scheduled_for_next_week_is_the_next_vote_not_the_status() -> None:
    passed = vote(O.passed, on=EARLIER)
    next_week = vote(O.scheduled, on=D + 7 * DAY, id=2, measure="Resolution 11-4")
    today = derive(passed, next_week, as_of=D)
    assert decided(today) == (S.vote_passed, EARLIER, "Board of Supervisors voted to opt out")
    assert today.next_vote_on == D + 7 * DAY and today.recompute_on == D + 7 * DAY
    on_the_day = derive(passed, next_week, as_of=D + 7 * DAY)
    assert (on_the_day.status, on_the_day.status_since) == (S.vote_scheduled, D + 7 * DAY)
    assert on_the_day.next_vote_on is None and on_the_day.recompute_on is None


def test_next_vote_on_is_the_earliest_upcoming_pending_opt_out_measure() -> None:
    introduced = vote(O.introduced, on=D + 5 * DAY, id=1)
    scheduled = vote(O.scheduled, on=D + 10 * DAY, id=2)
    ignored = [
        vote(O.scheduled, on=D + DAY, id=3, topic=VoteTopic.detainer_policy),
        vote(O.scheduled, on=D + 2 * DAY, id=4, topic=VoteTopic.other_related),
        vote(O.tabled, on=D + 3 * DAY, id=5),
        vote(O.withdrawn, on=D + 3 * DAY, id=6),
        vote(O.scheduled, on=D, id=7),  # today's: no longer upcoming
    ]
    assert derive(introduced, scheduled, *ignored, as_of=D).next_vote_on == D + 5 * DAY
    assert derive(introduced, scheduled, *ignored, as_of=D + 5 * DAY).next_vote_on == D + 10 * DAY
    assert derive(introduced, scheduled, *ignored, as_of=D + 10 * DAY).next_vote_on is None
    assert derive(*ignored, as_of=D).next_vote_on is None


def test_recompute_on_is_the_next_event_of_any_kind() -> None:
    facts = (letter(on=EARLIER), announced(E.program_ended, on=ENDED), vote(O.scheduled, on=D))
    assert derive(*facts, as_of=EARLIER - DAY).recompute_on == EARLIER
    assert derive(*facts, as_of=EARLIER).recompute_on == D
    assert derive(*facts, as_of=D).recompute_on == ENDED
    assert derive(*facts, as_of=ENDED).recompute_on is None


# Announcements: an answer to every open campaign in scope


# A campaign in each status as of the day before D, by its own event.
OPEN_CAMPAIGNS: dict[CampaignStatus, list[Fact]] = {
    S.vote_passed: [vote(O.passed)],
    S.notified: [letter()],
    S.in_negotiation: [response(K.meeting_requested)],
    S.delayed: [response(K.activation_date_adjusted)],
}
OTHER_CAMPAIGNS: dict[CampaignStatus, list[Fact]] = {
    S.no_action: [],
    S.vote_scheduled: [vote(O.scheduled)],
    S.vote_failed: [vote(O.failed)],
    S.denied: [response(K.denied)],
    S.notifications_only: [response(K.notifications_only)],
    S.opted_out: [response(K.removed_from_deployment_plan)],
}
ANSWERS = [(E.opt_out_denied, S.denied), (E.notifications_only, S.notifications_only)]


def test_the_campaigns_above_are_one_of_each_status() -> None:
    assert set(OPEN_CAMPAIGNS) == OPEN and set(OPEN_CAMPAIGNS) | set(OTHER_CAMPAIGNS) == set(S)
    for status, facts in {**OPEN_CAMPAIGNS, **OTHER_CAMPAIGNS}.items():
        assert derive(*facts, as_of=D - DAY).status is status


@pytest.mark.parametrize("opened", list(OPEN_CAMPAIGNS))
@pytest.mark.parametrize(("effect", "stage"), ANSWERS)
def test_an_announcement_answers_an_open_campaign_from_its_date(
    opened: CampaignStatus, effect: AnnouncementEffect, stage: CampaignStatus
) -> None:
    facts = (*OPEN_CAMPAIGNS[opened], announced(effect))
    assert derive(*facts, as_of=D - DAY).status is opened
    assert decided(derive(*facts, as_of=D)) == (stage, D, REASON)


@pytest.mark.parametrize("status", list(OTHER_CAMPAIGNS))
@pytest.mark.parametrize("effect", list(AnnouncementEffect))
def test_an_announcement_leaves_a_campaign_not_open_as_it_is(
    status: CampaignStatus, effect: AnnouncementEffect
) -> None:
    own = OTHER_CAMPAIGNS[status]
    assert decided(derive(*own, announced(effect), as_of=D)) == decided(derive(*own, as_of=D))


@pytest.mark.parametrize("opened", list(OPEN_CAMPAIGNS))
def test_an_announcement_of_no_effect_is_only_on_the_timeline(opened: CampaignStatus) -> None:
    own = OPEN_CAMPAIGNS[opened]
    assert derive(*own, announced(E.none), as_of=D) == derive(*own, as_of=D)


@pytest.mark.parametrize(
    ("own_that_day", "status"),
    [
        (letter(on=D, id=9), S.denied),  # opened that day: answered that day
        (vote(O.passed, on=D, id=9), S.denied),
        (vote(O.failed, on=D, id=9), S.vote_failed),  # closed that day: not answered
        (response(K.removed_from_deployment_plan, on=D, id=9), S.opted_out),
        (response(K.notifications_only, on=D, id=9), S.notifications_only),
    ],
)
def test_on_the_same_date_the_announcement_comes_after_the_jurisdictions_own_events(
    own_that_day: Fact, status: CampaignStatus
) -> None:
    # Announcement id 1, own event id 9: the order typed in is not the order of events.
    for before in ([], [vote(O.passed, on=EARLIER, id=2)]):
        assert derive(*before, own_that_day, announced(E.opt_out_denied), as_of=D).status is status


def test_two_announcements_on_one_date_apply_denial_then_ending_whatever_their_ids() -> None:
    for ids in ((1, 2), (2, 1)):
        denial, ending = (
            announced(E.opt_out_denied, id=ids[0]),
            announced(E.program_ended, id=ids[1]),
        )
        state = derive(letter(), denial, ending, as_of=D)
        assert (state.status, state.campaign_closed_on) == (S.denied, D)


def test_an_announcement_dated_after_as_of_is_upcoming() -> None:
    state = derive(letter(), announced(E.opt_out_denied), as_of=D - DAY)
    assert state.status is S.notified and state.recompute_on == D


# Closed campaigns: program_ended


def test_the_program_ending_closes_the_campaign_and_keeps_its_status() -> None:
    sent = letter(on=EARLIER)
    open_ = derive(sent, announced(E.program_ended, on=ENDED), as_of=ENDED - DAY)
    assert open_.awaiting_response and open_.overdue(ENDED - DAY)
    assert open_.campaign_closed_on is None
    closed = derive(sent, announced(E.program_ended, on=ENDED), as_of=ENDED)
    assert decided(closed) == decided(open_)
    assert closed.campaign_closed_on == ENDED
    assert not closed.awaiting_response and closed.next_response_due_on is None
    assert not closed.overdue(ENDED + 3650 * DAY)
    assert closed.ice_notified, "what was done stays on the checklist"


def test_a_later_event_of_its_own_reopens_letters_before_the_closing_never_await_again() -> None:
    old_letter = letter(on=EARLIER, id=1)
    ending = announced(E.program_ended, on=ENDED)
    new_vote = vote(O.passed, on=ENDED + 10 * DAY, id=2)
    new_letter = letter(on=ENDED + 20 * DAY, id=3)
    reopened = derive(old_letter, ending, new_vote, new_letter, as_of=ENDED + 10 * DAY)
    assert (reopened.status, reopened.campaign_closed_on) == (S.vote_passed, None)
    assert not reopened.awaiting_response
    sent_again = derive(old_letter, ending, new_vote, new_letter, as_of=ENDED + 20 * DAY)
    assert sent_again.awaiting_response
    assert sent_again.next_response_due_on == ENDED + 50 * DAY


def test_an_event_on_the_closing_date_comes_before_the_closing() -> None:
    state = derive(letter(on=ENDED), announced(E.program_ended, on=ENDED), as_of=ENDED)
    assert (state.status, state.status_since, state.campaign_closed_on) == (
        S.notified,
        ENDED,
        ENDED,
    )
    assert not state.awaiting_response


@pytest.mark.parametrize(
    "no_stage",
    [
        vote(O.tabled, on=ENDED + DAY, id=5),
        vote(O.passed, on=ENDED + DAY, id=5, topic=VoteTopic.detainer_policy),
        letter(on=ENDED + DAY, id=5, purpose=LetterPurpose.clarification_request),
        letter(on=ENDED + DAY, id=5, to=AgencyKind.governor),
        response(K.other, on=ENDED + DAY, id=5),
    ],
    ids=repr,
)
def test_an_event_that_sets_no_stage_does_not_reopen(no_stage: Fact) -> None:
    state = derive(letter(), announced(E.program_ended, on=ENDED), no_stage, as_of=ENDED + DAY)
    assert state.campaign_closed_on == ENDED and not state.awaiting_response


def test_a_closed_campaign_is_not_answered_a_reopened_one_is() -> None:
    ending, denial = announced(E.program_ended, on=D - DAY, id=1), announced(E.opt_out_denied)
    assert derive(letter(), ending, denial, as_of=D).status is S.notified
    reopened = (letter(), ending, letter(on=D, id=2), denial)
    # Own letter on D, the denial on D: the letter reopened the campaign just before.
    assert decided(derive(*reopened, as_of=D)) == (S.denied, D, REASON)


def test_the_first_closing_stands_until_a_reopening_then_the_next_one() -> None:
    first, second = (announced(E.program_ended, on=d, id=i) for i, d in ((1, D), (2, ENDED)))
    assert derive(letter(), first, second, as_of=ENDED).campaign_closed_on == D
    again = derive(letter(), first, vote(O.passed, on=D + DAY, id=2), second, as_of=ENDED)
    assert again.campaign_closed_on == ENDED


# The same answer whenever the records were typed in

dates = st.dates(min_value=date(2008, 1, 1), max_value=date(2015, 12, 31))


@st.composite
def histories(draw: st.DrawFn) -> list[Fact]:
    facts: list[Fact] = []
    for i in range(1, draw(st.integers(0, 14)) + 1):
        kind = draw(st.sampled_from(["vote", "letter", "response", "announcement"]))
        on, pick = draw(dates), lambda values: draw(st.sampled_from(list(values)))
        if kind == "vote":
            facts.append(vote(pick(O), on, i, topic=pick(VoteTopic)))
        elif kind == "letter":
            facts.append(letter(on, i, pick(AgencyKind), pick(LetterPurpose)))
        elif kind == "response":
            facts.append(response(pick(K), on, i, draw(st.one_of(st.none(), st.integers(1, i)))))
        else:
            facts.append(announced(pick(E), on, i))
    return facts


def renumber(fact: Fact) -> Fact:
    """The fact with id 100 - id, and a response linked to its letter's new id."""
    if isinstance(fact, ResponseFact) and fact.letter_id is not None:
        return replace(fact, id=100 - fact.id, letter_id=100 - fact.letter_id)
    return replace(fact, id=100 - fact.id)


@given(histories(), dates, st.randoms())
def test_order_and_ids_never_matter_only_dates(facts: list[Fact], as_of: date, rnd: Any) -> None:
    shuffled = facts[:]
    rnd.shuffle(shuffled)
    assert derive(*facts, as_of=as_of) == derive(*shuffled, as_of=as_of)
    # Ids given in another order (what typing the records in another order does) change at
    # most which of two events tied in every other way gives the sentence.
    renumbered = [renumber(f) for f in facts]
    first, second = derive(*facts, as_of=as_of), derive(*renumbered, as_of=as_of)
    assert replace(first, status_reason=None) == replace(second, status_reason=None)


@given(histories(), dates)
def test_what_comes_after_as_of_changes_only_what_is_upcoming(
    facts: list[Fact], as_of: date
) -> None:
    past = [f for f in facts if event_date(f) <= as_of]
    with_future, without = derive(*facts, as_of=as_of), derive(*past, as_of=as_of)
    assert replace(with_future, next_vote_on=None, recompute_on=None) == without
    upcoming = [event_date(f) for f in facts if event_date(f) > as_of]
    assert with_future.recompute_on == min(upcoming, default=None)


@given(histories(), dates)
def test_a_closed_campaign_awaits_nothing(facts: list[Fact], as_of: date) -> None:
    state = derive(*facts, as_of=as_of)
    if state.campaign_closed_on is not None:
        assert not state.awaiting_response and state.next_response_due_on is None
        assert steps(*facts, as_of=as_of) == []


# Through the state


def state_of(status: CampaignStatus, since: date | None = EARLIER) -> CampaignState:
    return CampaignState(status=status, status_since=since if status is not S.no_action else None)


def test_a_place_with_no_campaign_of_its_own_is_covered_by_its_states() -> None:
    county, state = state_of(S.no_action), state_of(S.notified, D)
    assert effective_status(county, state) == Effective(S.notified, D, "state")


def test_a_place_with_its_own_campaign_is_covered_by_its_own() -> None:
    county, state = state_of(S.vote_passed, EARLIER), state_of(S.denied, D)
    assert effective_status(county, state) == Effective(S.vote_passed, EARLIER, "own")


def test_a_state_and_a_place_whose_state_has_no_campaign_are_their_own() -> None:
    assert effective_status(state_of(S.denied), None) == Effective(S.denied, EARLIER, "own")
    assert effective_status(state_of(S.no_action), state_of(S.no_action)) == Effective(
        S.no_action, None, "own"
    )


def test_a_place_whose_own_events_are_all_upcoming_is_covered_by_its_state() -> None:
    county = derive(vote(O.scheduled, on=D + DAY), as_of=D)
    assert effective_status(county, state_of(S.denied, D)).via == "state"


# Activated despite opt-out

ACTIVATED = date(2010, 6, 22)


def test_opposition_is_a_passed_opt_out_vote_or_notice() -> None:
    assert opposed_on([vote(O.passed, on=D), vote(O.passed, on=EARLIER, id=2)], []) == EARLIER
    assert opposed_on([], [letter(on=D), letter(on=EARLIER, id=2)]) == EARLIER
    not_opposition = [
        vote(O.failed, on=EARLIER),
        vote(O.scheduled, on=EARLIER, id=2),
        vote(O.passed, on=EARLIER, id=3, topic=VoteTopic.detainer_policy),
    ]
    other_letters = [
        letter(purpose=LetterPurpose.clarification_request),
        letter(id=2, to=AgencyKind.fbi),
    ]
    assert opposed_on(not_opposition, other_letters) is None


@pytest.mark.parametrize(
    ("opposed", "as_of", "expected"),
    [
        (ACTIVATED - DAY, ACTIVATED, True),  # activated that day, opposed the day before
        (ACTIVATED - DAY, ACTIVATED - DAY, False),  # not activated yet
        (ACTIVATED, ACTIVATED, False),  # opposed on the activation day: not before it
        (ACTIVATED + DAY, ACTIVATED + DAY, False),  # opposed after
        (None, ACTIVATED, False),
    ],
)
def test_activated_despite_opt_out_at_its_boundaries(
    opposed: date | None, as_of: date, expected: bool
) -> None:
    assert activated_despite_opt_out(ACTIVATED, as_of, opposed) is expected
    assert activated_despite_opt_out(None, as_of, opposed) is False


# Next steps, each with the date it became due


def test_send_notice_from_the_vote_until_a_notice_goes() -> None:
    passed = vote(O.passed, on=EARLIER)
    assert steps(passed, as_of=EARLIER - DAY) == []
    assert steps(passed, as_of=EARLIER) == [(Step.send_notice, EARLIER)]
    sent = letter(on=EARLIER + 3 * DAY)
    assert (Step.send_notice, EARLIER) not in steps(passed, sent, as_of=EARLIER + 3 * DAY)


def test_notify_the_side_not_yet_notified() -> None:
    to_ice = letter(on=EARLIER, to=AgencyKind.dhs)
    to_sib = letter(on=EARLIER + DAY, id=2, to=AgencyKind.state_identification_bureau)
    assert steps(to_ice, as_of=EARLIER) == [(Step.notify_sib, EARLIER)]
    assert steps(to_sib, as_of=EARLIER + DAY) == [(Step.notify_ice, EARLIER + DAY)]
    assert steps(to_ice, to_sib, as_of=EARLIER + DAY) == []


def test_chase_from_the_day_after_the_answer_was_due() -> None:
    sent = letter(on=EARLIER, to=AgencyKind.state_identification_bureau, id=1)
    other_side = letter(on=EARLIER, id=2)
    due = EARLIER + 30 * DAY
    assert steps(sent, other_side, as_of=due) == []
    assert steps(sent, other_side, as_of=due + DAY) == [(Step.chase, due + DAY)]
    answered = (sent, other_side, response(K.acknowledged, on=due, letter_id=1),
                response(K.acknowledged, on=due, id=2, letter_id=2))  # fmt: skip
    assert steps(*answered, as_of=due + DAY) == []


def chaser(of: LetterFact, on: date, id: int) -> LetterFact:
    return replace(
        of, id=id, sent_on=on, purpose=LetterPurpose.follow_up, follows_letter_id=of.id,
        response_due_on=on + timedelta(days=30),
    )  # fmt: skip


def test_a_chaser_puts_the_chase_off_until_its_own_answer_is_due() -> None:
    to_sib = letter(on=EARLIER, to=AgencyKind.state_identification_bureau, id=1)
    to_ice = letter(on=EARLIER, id=2)
    due = EARLIER + 30 * DAY
    chase_sib = chaser(to_sib, on=due + 2 * DAY, id=3)
    chase_again = chaser(chase_sib, on=due + 40 * DAY, id=4)  # a chaser of the chaser
    # Only ICE's answer is still to chase once the SIB's chaser went; from when ICE's was due.
    assert steps(to_sib, to_ice, chase_sib, as_of=due + 2 * DAY) == [(Step.chase, due + DAY)]
    to_ice_answered = response(K.acknowledged, on=due, id=1, letter_id=2)
    events = (to_sib, to_ice, to_ice_answered, chase_sib)
    assert steps(*events, as_of=due + 32 * DAY) == []  # the chaser's answer is due that day
    assert steps(*events, as_of=due + 33 * DAY) == [(Step.chase, due + 33 * DAY)]
    assert steps(*events, chase_again, as_of=due + 41 * DAY) == []
    # The SIB answers the second chaser: the notice it follows up is answered.
    answer = response(K.acknowledged, on=due + 45 * DAY, id=2, letter_id=4)
    answered = derive(*events, chase_again, answer, as_of=due + 45 * DAY)
    assert not answered.awaiting_response and not answered.overdue(due + 45 * DAY)
    assert steps(*events, chase_again, answer, as_of=due + 100 * DAY) == []


def test_log_outcome_from_the_day_after_a_scheduled_vote() -> None:
    scheduled = vote(O.scheduled, on=D)
    assert steps(scheduled, as_of=D) == []
    assert steps(scheduled, as_of=D + DAY) == [(Step.log_outcome, D + DAY)]
    logged = replace(scheduled, outcome=O.passed)
    assert steps(logged, as_of=D + DAY) == [(Step.send_notice, D)]


def test_confirm_activation_from_the_day_after_the_scheduled_date() -> None:
    both = (letter(on=EARLIER), letter(on=EARLIER, id=2, to=AgencyKind.state_identification_bureau),
            response(K.meeting_requested, on=EARLIER, id=1, letter_id=1),
            response(K.meeting_requested, on=EARLIER, id=2, letter_id=2))  # fmt: skip
    assert steps(*both, as_of=D, scheduled=D) == []
    assert steps(*both, as_of=D + DAY, scheduled=D) == [(Step.confirm_activation, D + DAY)]
    assert steps(*both, as_of=D + DAY, scheduled=D, activated=D + DAY) == []
    # Recorded as activated later than the day asked about: not yet confirmed then.
    assert steps(*both, as_of=D + DAY, scheduled=D, activated=D + 2 * DAY) == [
        (Step.confirm_activation, D + DAY)
    ]


def test_every_step_of_the_contract_is_tested_above() -> None:
    assert [s.value for s in Step] == [
        "send_notice", "notify_sib", "notify_ice", "chase", "log_outcome", "confirm_activation"
    ]  # fmt: skip


def test_no_campaign_no_next_steps() -> None:
    assert steps(as_of=D, scheduled=EARLIER) == []


@pytest.mark.parametrize("status", [S.vote_failed, S.denied, S.notifications_only, S.opted_out])
def test_a_decided_campaign_has_no_next_steps(status: CampaignStatus) -> None:
    unanswered = letter(on=EARLIER - DAY, id=8)  # to ICE only, and overdue by D
    own = (*OTHER_CAMPAIGNS[status], unanswered)
    assert derive(*own, as_of=D).status is status
    assert steps(*own, as_of=D, scheduled=EARLIER) == []


def test_a_closed_campaign_has_no_next_steps_a_reopened_one_only_its_own() -> None:
    old = (letter(on=EARLIER), vote(O.scheduled, on=EARLIER + DAY, id=2))
    ending = announced(E.program_ended, on=ENDED)
    assert steps(*old, as_of=ENDED - DAY, scheduled=D) != []
    assert steps(*old, ending, as_of=ENDED + 100 * DAY, scheduled=D) == []
    new_vote = vote(O.passed, on=ENDED + DAY, id=3)
    # The notice of the old campaign is not the new one's: send notice again.
    assert steps(*old, ending, new_vote, as_of=ENDED + DAY) == [(Step.send_notice, ENDED + DAY)]


# Today's projection


class Clock:
    """Today, as every module that reads it sees it."""

    MODULES = ("status_projection", "public", "jurisdictions", "campaign")

    def __init__(self, monkeypatch: pytest.MonkeyPatch, on: date) -> None:
        self.on = on
        for module in self.MODULES:
            monkeypatch.setattr(f"optout_tracker.services.{module}.today", lambda: self.on)
        monkeypatch.setattr(status_projection, "_checked_on", None)  # not checked today yet
        monkeypatch.setattr(status_projection, "_retry_at", 0.0)  # nor refused


TODAY = date(2026, 3, 2)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch, TODAY)


def row_of(session: Session, j: Jurisdiction) -> JurisdictionStatus:
    row = session.get(JurisdictionStatus, j.id)
    assert row is not None
    session.refresh(row)
    return row


def test_the_stored_row_is_today_s_until_an_upcoming_event_s_day(
    session: Session, clock: Clock
) -> None:
    j = factories.jurisdiction(session, "06085")
    factories.vote(session, j, held_on=TODAY - 100 * DAY)
    factories.vote(session, j, held_on=TODAY + 7 * DAY, outcome=O.scheduled, yes=None, no=None)
    row = row_of(session, j)
    assert (row.status, row.next_vote_on, row.recompute_on) == (
        S.vote_passed,
        TODAY + 7 * DAY,
        TODAY + 7 * DAY,
    )
    revision = row.revision

    clock.on = TODAY + 6 * DAY
    assert status_projection.refresh_due(session) == []
    assert row_of(session, j).revision == revision

    clock.on = TODAY + 7 * DAY
    assert status_projection.refresh_due(session) == [
        status_projection.StatusChange(j.id or 0, S.vote_passed, S.vote_scheduled)
    ]
    row = row_of(session, j)
    assert (row.status, row.status_since, row.next_vote_on, row.recompute_on) == (
        S.vote_scheduled,
        TODAY + 7 * DAY,
        None,
        None,
    )
    assert public.jurisdiction(j, row).next_vote_on is None


def test_announcements_reach_the_stored_row_through_their_loader(
    session: Session, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    j = factories.jurisdiction(session, "36")  # New York
    other = factories.jurisdiction(session, "17")  # Illinois: nothing announced to it here
    ice = factories.agency(session, AgencyKind.dhs)
    for place in (j, other):
        factories.letter(session, place, ice, sent_on=date(2011, 6, 1))
    ending = announced(E.program_ended, on=ENDED)
    upcoming = announced(E.none, on=TODAY + 30 * DAY, id=2)
    monkeypatch.setattr(
        status_projection,
        "_announcement_facts",
        lambda _session, ids: {i: [ending, upcoming] for i in ids if i == j.id},
    )
    status_projection.refresh(session, [j.id or 0, other.id or 0])
    closed, still_waiting = row_of(session, j), row_of(session, other)
    assert (closed.status, closed.campaign_closed_on, closed.awaiting_response) == (
        S.notified,
        ENDED,
        False,
    )
    assert closed.next_response_due_on is None and closed.recompute_on == TODAY + 30 * DAY
    shown = public.jurisdiction(j, closed)
    assert (shown.campaign_closed_on, shown.overdue) == (ENDED, False)
    assert still_waiting.awaiting_response and still_waiting.campaign_closed_on is None
    assert public.jurisdiction(other, still_waiting).overdue


# Once a day per process: before a request reads, and in the webhook worker


@pytest.fixture
def fresh(databases: DatabaseFactory) -> Iterator[tuple[str, sa.Engine]]:
    """An empty database of its own: these tests need real transactions, not the test's."""
    url = databases.new_url()
    engine = create_db_engine(make_settings(url))
    migrate.upgrade(engine)
    yield url, engine
    engine.dispose()


def pending_vote_in(engine: sa.Engine, held_on: date) -> int:
    """A county with a vote scheduled for `held_on`, its status derived (as of the clock)."""
    with unit_of_work(engine) as session:
        j = Jurisdiction(name="Santa Clara County", kind=JurisdictionKind.county, state="CA",
                         slug="ca-santa-clara-county", fips="06085")  # fmt: skip
        session.add(j)
        session.flush()
        status_projection.initialize(session, [j.id or 0])
        session.add(Vote(jurisdiction_id=j.id or 0, body="Board of Supervisors",
                         held_on=held_on, outcome=O.scheduled))  # fmt: skip
        status_projection.refresh(session, [j.id or 0])
        return j.id or 0


def stored(engine: sa.Engine, jurisdiction_id: int) -> JurisdictionStatus:
    with unit_of_work(engine, write=False) as session:
        row = session.get(JurisdictionStatus, jurisdiction_id)
        assert row is not None
        return row


def test_keep_current_derives_due_rows_once_a_day(
    fresh: tuple[str, sa.Engine], clock: Clock
) -> None:
    _, engine = fresh
    jid = pending_vote_in(engine, TODAY + DAY)
    status_projection.keep_current(engine)
    assert stored(engine, jid).status is S.no_action

    clock.on = TODAY + DAY
    status_projection.keep_current(engine)
    assert stored(engine, jid).status is S.vote_scheduled

    # Made due again behind its back: the same day it is not looked at again, the next it is.
    with unit_of_work(engine) as session:
        session.execute(
            sa.update(JurisdictionStatus).values(status=S.no_action, recompute_on=clock.on)
        )
    status_projection.keep_current(engine)
    assert stored(engine, jid).status is S.no_action
    clock.on += DAY
    status_projection.keep_current(engine)
    assert stored(engine, jid).status is S.vote_scheduled


def test_the_first_request_of_the_vote_s_day_reads_its_status(
    fresh: tuple[str, sa.Engine], clock: Clock
) -> None:
    from optout_tracker.main import create_app

    url, engine = fresh
    jid = pending_vote_in(engine, TODAY + DAY)
    app = create_app(make_settings(url))
    try:
        with TestClient(app) as client:
            path = f"/api/v1/jurisdictions/{jid}"
            assert client.get(path).json()["status"] == "no_action"
            assert client.get(path).json()["next_vote_on"] == (TODAY + DAY).isoformat()
            clock.on = TODAY + DAY  # nothing written since: the calendar alone moved
            today_s = client.get(path).json()
            assert (today_s["status"], today_s["status_since"], today_s["next_vote_on"]) == (
                "vote_scheduled",
                (TODAY + DAY).isoformat(),
                None,
            )
            summary = client.get("/api/v1/status/summary").json()
            assert summary["overall"]["counts"]["vote_scheduled"] == 1
    finally:
        app.state.engine.dispose()


def test_the_webhook_worker_derives_due_rows_even_if_no_one_reads(
    fresh: tuple[str, sa.Engine], clock: Clock
) -> None:
    url, engine = fresh
    jid = pending_vote_in(engine, TODAY + DAY)
    clock.on = TODAY + DAY
    Worker(engine, make_settings(url)).run(once=True)
    assert stored(engine, jid).status is S.vote_scheduled


def test_a_busy_database_delays_today_s_statuses_without_making_each_read_wait(
    tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On SQLite another process (a CLI import) may hold the write lock for seconds: the
    # first read of the day waits out the busy timeout once, reads the statuses as stored,
    # and the reads after it do not wait again until RETRY_SECONDS have passed.
    monkeypatch.setattr(db, "BUSY_TIMEOUT_SECONDS", 1)  # read as each connection opens
    now = [1_000.0]
    monkeypatch.setattr(status_projection, "monotonic", lambda: now[0])
    path = tmp_path / "busy.db"
    engine = create_db_engine(make_settings(f"sqlite:///{path}"))
    try:
        migrate.upgrade(engine)
        jid = pending_vote_in(engine, TODAY + DAY)
        clock.on = TODAY + DAY
        other_process = sqlite3.connect(path, isolation_level=None)
        other_process.execute("BEGIN IMMEDIATE")
        started = time.perf_counter()
        status_projection.keep_current(engine)  # waits the busy timeout out, then reads on
        assert 0.9 < time.perf_counter() - started < 4
        assert stored(engine, jid).status is S.no_action
        started = time.perf_counter()
        status_projection.keep_current(engine)
        assert time.perf_counter() - started < 0.5  # not tried again yet
        other_process.rollback()
        status_projection.keep_current(engine)
        assert stored(engine, jid).status is S.no_action
        now[0] += status_projection.RETRY_SECONDS
        status_projection.keep_current(engine)
        assert stored(engine, jid).status is S.vote_scheduled
        other_process.close()
    finally:
        engine.dispose()
