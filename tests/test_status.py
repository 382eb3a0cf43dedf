"""The contract's campaign rules, table by table, and their invariants under Hypothesis."""

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from optout_tracker import i18n
from optout_tracker.enums import (
    AgencyKind,
    CampaignStatus,
    Channel,
    LetterPurpose,
    ResponseKind,
    VoteOutcome,
)
from optout_tracker.status import (
    CampaignState,
    Fact,
    LetterFact,
    ResponseFact,
    VoteFact,
    derive_status,
    describe,
    event_date,
    stage_of,
)

D = date(2010, 9, 28)
S = CampaignStatus


def vote(outcome: VoteOutcome, on: date = D, id: int = 1, **kw: object) -> VoteFact:
    return VoteFact(id, on, outcome, "Board of Supervisors", **kw)  # type: ignore[arg-type]


def letter(
    purpose: LetterPurpose = LetterPurpose.opt_out_request,
    on: date = D,
    id: int = 1,
    to: AgencyKind = AgencyKind.ice,
    channel: Channel | None = Channel.fax,
) -> LetterFact:
    return LetterFact(id, on, purpose, to, "ICE Secure Communities", on + timedelta(30), channel)


def response(
    kind: ResponseKind, on: date = D, id: int = 1, letter_id: int | None = None
) -> ResponseFact:
    return ResponseFact(id, on, kind, "ICE Secure Communities", letter_id)


# After every event of these tests: each of them counts.
AS_OF = date(2020, 1, 1)


def derive(*facts: Fact) -> CampaignState:
    return derive_status(
        [f for f in facts if isinstance(f, VoteFact)],
        [f for f in facts if isinstance(f, LetterFact)],
        [f for f in facts if isinstance(f, ResponseFact)],
        [],
        AS_OF,
    )


STAGE_TABLE: list[tuple[Fact, CampaignStatus | None]] = [
    (vote(VoteOutcome.introduced), S.vote_scheduled),
    (vote(VoteOutcome.scheduled), S.vote_scheduled),
    (vote(VoteOutcome.failed), S.vote_failed),
    (vote(VoteOutcome.passed), S.vote_passed),
    (vote(VoteOutcome.tabled), None),
    (vote(VoteOutcome.withdrawn), None),
    (letter(LetterPurpose.opt_out_request), S.notified),
    (letter(LetterPurpose.activation_delay_request), S.notified),
    (letter(LetterPurpose.clarification_request), None),
    (letter(LetterPurpose.follow_up), None),  # a chaser: the notice it follows set the stage
    (letter(LetterPurpose.records_request), None),
    (letter(LetterPurpose.other), None),
    (response(ResponseKind.acknowledged), S.notified),
    (response(ResponseKind.meeting_requested), S.in_negotiation),
    (response(ResponseKind.meeting_held), S.in_negotiation),
    (response(ResponseKind.activation_date_adjusted), S.delayed),
    (response(ResponseKind.denied), S.denied),
    (response(ResponseKind.notifications_only), S.notifications_only),
    (response(ResponseKind.removed_from_deployment_plan), S.opted_out),
    (response(ResponseKind.other), None),
]


@pytest.mark.parametrize(("fact", "stage"), STAGE_TABLE, ids=lambda x: getattr(x, "value", None))
def test_each_event_sets_the_stage_of_the_contract(
    fact: Fact, stage: CampaignStatus | None
) -> None:
    assert stage_of(fact) == stage
    state = derive(fact)
    assert state.status == (stage or S.no_action)
    assert state.status_since == (D if stage else None)


def test_every_vote_outcome_letter_purpose_and_response_kind_is_in_the_table() -> None:
    covered = {
        type(f).__name__
        + ":"
        + str(getattr(f, "outcome", getattr(f, "purpose", getattr(f, "kind", ""))))
        for f, _ in STAGE_TABLE
    }
    assert len(covered) == len(VoteOutcome) + len(LetterPurpose) + len(ResponseKind)


def test_no_events_is_no_action() -> None:
    assert derive() == CampaignState()
    assert derive().status is S.no_action


def test_the_latest_date_wins_even_over_a_later_stage() -> None:
    state = derive(
        response(ResponseKind.denied, on=date(2011, 3, 1)),
        vote(VoteOutcome.passed, on=date(2012, 6, 5)),
    )
    assert (state.status, state.status_since) == (S.vote_passed, date(2012, 6, 5))


def test_the_precedence_order_is_the_contracts() -> None:
    assert [s.value for s in sorted(S, key=lambda s: s.rank)] == [
        "no_action", "vote_scheduled", "vote_failed", "vote_passed", "notified",
        "in_negotiation", "delayed", "denied", "notifications_only", "opted_out",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("earlier_stage", "later_stage"),
    [
        (vote(VoteOutcome.scheduled), vote(VoteOutcome.failed, id=2)),
        (vote(VoteOutcome.failed), vote(VoteOutcome.passed, id=2)),
        (vote(VoteOutcome.passed), letter()),
        (letter(), response(ResponseKind.meeting_held)),
        (
            response(ResponseKind.meeting_requested),
            response(ResponseKind.activation_date_adjusted, id=2),
        ),
        (response(ResponseKind.activation_date_adjusted), response(ResponseKind.denied, id=2)),
        (response(ResponseKind.denied), response(ResponseKind.notifications_only, id=2)),
        (
            response(ResponseKind.notifications_only),
            response(ResponseKind.removed_from_deployment_plan, id=2),
        ),
    ],
)
def test_on_the_same_date_the_later_stage_wins(earlier_stage: Fact, later_stage: Fact) -> None:
    assert derive(earlier_stage, later_stage).status == stage_of(later_stage)
    assert derive(later_stage, earlier_stage).status == stage_of(later_stage)


def test_reasons_are_human_sentences() -> None:
    assert (
        reason(vote(VoteOutcome.passed, yes=4, no=1)) == "Board of Supervisors voted 4–1 to opt out"
    )
    assert reason(vote(VoteOutcome.passed)) == "Board of Supervisors voted to opt out"
    assert reason(vote(VoteOutcome.failed, yes=2, no=3)) == (
        "Board of Supervisors voted 2–3 against opting out"
    )
    assert reason(vote(VoteOutcome.scheduled, measure="Resolution 2010-4")) == (
        "Board of Supervisors scheduled a vote on Resolution 2010-4 for September 28, 2010"
    )
    assert reason(letter()) == "Opt-out request sent to ICE Secure Communities by fax"
    assert reason(letter(channel=None)) == "Opt-out request sent to ICE Secure Communities"
    assert reason(response(ResponseKind.denied)) == (
        "ICE Secure Communities denied the opt-out request"
    )
    adjusted = ResponseFact(
        1, D, ResponseKind.activation_date_adjusted, "ICE", None, date(2011, 1, 4)
    )
    assert str(describe(adjusted)) == "ICE moved activation to January 4, 2011"
    for fact, _ in STAGE_TABLE:
        assert str(describe(fact))


def test_reasons_are_said_in_the_readers_language() -> None:
    passed = derive(vote(VoteOutcome.passed, yes=4, no=1)).status_reason
    scheduled = derive(vote(VoteOutcome.scheduled, measure="Resolution 2010-4")).status_reason
    with i18n.using("es"):
        assert str(passed) == "Board of Supervisors votó 4–1 a favor de excluirse"
        assert str(scheduled) == (
            "Board of Supervisors programó una votación sobre Resolution 2010-4 para el "
            "28 de septiembre de 2010"
        )
        assert reason(letter()) == (
            "Solicitud de exclusión enviada a ICE Secure Communities por fax"
        )
    assert str(passed) == "Board of Supervisors voted 4–1 to opt out"


def reason(*facts: Fact) -> str:
    return str(derive(*facts).status_reason)


def test_notice_flags_follow_only_opt_out_and_delay_letters() -> None:
    sib = letter(to=AgencyKind.state_identification_bureau, id=1)
    ice = letter(LetterPurpose.activation_delay_request, to=AgencyKind.ice, id=2)
    assert (derive(sib).sib_notified, derive(sib).ice_notified, derive(sib).notice_complete) == (
        True,
        False,
        False,
    )
    both = derive(sib, ice)
    assert both.sib_notified and both.ice_notified and both.notice_complete
    clarification = derive(letter(LetterPurpose.clarification_request, to=AgencyKind.ice))
    assert not clarification.ice_notified and not clarification.awaiting_response
    dhs = derive(letter(to=AgencyKind.dhs))
    assert dhs.ice_notified and not dhs.sib_notified and dhs.awaiting_response


def test_awaiting_and_overdue_follow_linked_responses_and_the_dueevent_date() -> None:
    sent = letter(on=date(2010, 10, 7))  # due 2010-11-06
    state = derive(sent)
    assert state.awaiting_response and state.next_response_due_on == date(2010, 11, 6)
    assert not state.overdue(date(2010, 11, 6))
    assert state.overdue(date(2010, 11, 7))
    unlinked = derive(sent, response(ResponseKind.acknowledged, on=date(2010, 10, 20)))
    assert unlinked.awaiting_response, "a response only answers the letter it is linked to"
    answered = derive(
        sent, response(ResponseKind.acknowledged, on=date(2010, 10, 20), letter_id=sent.id)
    )
    assert not answered.awaiting_response and not answered.overdue(date(2030, 1, 1))


def test_the_earliest_unanswered_due_date_decides_overdue() -> None:
    first, second = letter(on=date(2010, 1, 1), id=1), letter(on=date(2010, 6, 1), id=2)
    assert derive(first, second).next_response_due_on == date(2010, 1, 31)
    answered_first = derive(first, second, response(ResponseKind.acknowledged, letter_id=1))
    assert answered_first.next_response_due_on == date(2010, 7, 1)


# Hypothesis: invariants over arbitrary histories.

dates = st.dates(min_value=date(2008, 1, 1), max_value=date(2015, 12, 31))


@st.composite
def histories(draw: st.DrawFn) -> list[Fact]:
    n = draw(st.integers(0, 12))
    facts: list[Fact] = []
    for i in range(1, n + 1):
        kind = draw(st.sampled_from(["vote", "letter", "response"]))
        on = draw(dates)
        if kind == "vote":
            facts.append(vote(draw(st.sampled_from(VoteOutcome)), on, i))
        elif kind == "letter":
            to = draw(st.sampled_from(AgencyKind))
            facts.append(letter(draw(st.sampled_from(LetterPurpose)), on, i, to))
        else:
            linked = draw(st.one_of(st.none(), st.integers(1, n)))
            facts.append(response(draw(st.sampled_from(ResponseKind)), on, i, linked))
    return facts


@given(histories(), st.randoms())
def test_insertion_order_never_matters(facts: list[Fact], rnd) -> None:
    shuffled = facts[:]
    rnd.shuffle(shuffled)
    assert derive(*facts) == derive(*shuffled)


@given(histories(), st.sampled_from([f for f, stage in STAGE_TABLE if stage is None]), dates)
def test_an_event_that_sets_no_stage_never_changes_the_status(
    facts: list[Fact], extra: Fact, on: date
) -> None:
    extra = replace(extra, id=10_000)
    before, after = derive(*facts), derive(*facts, extra)
    assert (after.status, after.status_since, after.status_reason) == (
        before.status,
        before.status_since,
        before.status_reason,
    )


@given(histories())
def test_deleting_the_deciding_event_falls_back_to_the_previous_one(facts: list[Fact]) -> None:
    state = derive(*facts)
    staged = [f for f in facts if stage_of(f) is not None]
    if not staged:
        assert state.status is S.no_action
        return
    deciding = max(staged, key=lambda f: (event_date(f), stage_of(f).rank))  # type: ignore[union-attr]
    rest = [f for f in facts if f is not deciding]
    rest_staged = [f for f in rest if stage_of(f) is not None]
    fallback = derive(*rest)
    if not rest_staged:
        assert fallback.status is S.no_action
    else:
        best = max((event_date(f), stage_of(f).rank) for f in rest_staged)  # type: ignore[union-attr]
        assert (fallback.status_since, fallback.status.rank) == best
        assert (fallback.status_since, fallback.status.rank) <= (
            state.status_since,
            state.status.rank,
        )


@given(histories())
def test_status_is_the_maximum_of_date_then_stage(facts: list[Fact]) -> None:
    state = derive(*facts)
    staged = [(event_date(f), stage_of(f)) for f in facts if stage_of(f) is not None]
    if staged:
        best_date, best_stage = max(staged, key=lambda ds: (ds[0], ds[1].rank))  # type: ignore[union-attr]
        assert (state.status, state.status_since) == (best_stage, best_date)
    assert state.notice_complete == (state.sib_notified and state.ice_notified)
