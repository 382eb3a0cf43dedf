"""The campaign rules of the contract: which stage each event sets, and what follows, as of
a date.

Pure functions over plain facts, no I/O; services.status_projection feeds them from the
database and stores today's answer.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Literal

from .enums import (
    AgencyKind,
    AnnouncementEffect,
    CampaignStatus,
    Channel,
    LetterPurpose,
    ResponseKind,
    Rollout,
    VoteOutcome,
    VoteTopic,
)
from .i18n import Part, Sentence

NOTICE_PURPOSES = frozenset({LetterPurpose.opt_out_request, LetterPurpose.activation_delay_request})
# Notice goes to the state's bureau or to ICE; DHS, ICE's department, counts as ICE.
ICE_SIDE = frozenset({AgencyKind.ice, AgencyKind.dhs})
NOTICE_AGENCIES = ICE_SIDE | {AgencyKind.state_identification_bureau}

# The outcomes of a measure not yet decided: the only ones that may lie in the future.
PENDING = frozenset({VoteOutcome.introduced, VoteOutcome.scheduled})
# Only a vote on opting out sets a stage; votes on other topics are related measures.
VOTE_STAGES = {
    VoteOutcome.introduced: CampaignStatus.vote_scheduled,
    VoteOutcome.scheduled: CampaignStatus.vote_scheduled,
    VoteOutcome.failed: CampaignStatus.vote_failed,
    VoteOutcome.passed: CampaignStatus.vote_passed,
}
RESPONSE_STAGES = {
    ResponseKind.acknowledged: CampaignStatus.notified,
    ResponseKind.meeting_requested: CampaignStatus.in_negotiation,
    ResponseKind.meeting_held: CampaignStatus.in_negotiation,
    ResponseKind.activation_date_adjusted: CampaignStatus.delayed,
    ResponseKind.denied: CampaignStatus.denied,
    ResponseKind.notifications_only: CampaignStatus.notifications_only,
    ResponseKind.removed_from_deployment_plan: CampaignStatus.opted_out,
}
# A campaign waiting for ICE's answer: an announcement denying opt-outs (or offering
# notifications only) answers it, and only it.
OPEN = frozenset(
    {
        CampaignStatus.vote_passed,
        CampaignStatus.notified,
        CampaignStatus.in_negotiation,
        CampaignStatus.delayed,
    }
)
# A campaign with next steps: an open one, or one whose measure is pending (its outcome is
# to be logged). Decided campaigns (failed, denied, notifications only, opted out) have none.
UNDER_WAY = OPEN | {CampaignStatus.vote_scheduled}
ANNOUNCED_STAGES = {
    AnnouncementEffect.opt_out_denied: CampaignStatus.denied,
    AnnouncementEffect.notifications_only: CampaignStatus.notifications_only,
}
# On one date: a denial, then an offer of notifications only (as the stages rank), then the
# program's end, whatever order they were typed in.
EFFECT_ORDER = {
    AnnouncementEffect.none: 0,
    AnnouncementEffect.opt_out_denied: 1,
    AnnouncementEffect.notifications_only: 2,
    AnnouncementEffect.program_ended: 3,
}


@dataclass(frozen=True)
class VoteFact:
    id: int
    held_on: date
    outcome: VoteOutcome
    body: str
    measure: str | None = None
    yes: int | None = None
    no: int | None = None
    topic: VoteTopic = VoteTopic.opt_out


@dataclass(frozen=True)
class LetterFact:
    id: int
    sent_on: date
    purpose: LetterPurpose
    agency_kind: AgencyKind
    agency_name: str
    response_due_on: date
    channel: Channel | None = None
    follows_letter_id: int | None = None  # a chaser: the letter it follows up


@dataclass(frozen=True)
class ResponseFact:
    id: int
    received_on: date
    kind: ResponseKind
    agency_name: str
    letter_id: int | None = None
    new_activation_on: date | None = None


@dataclass(frozen=True)
class AnnouncementFact:
    """Said by an agency to every campaign in its scope: the caller passes a jurisdiction
    only the announcements whose scope covers it (national, or its state's)."""

    id: int
    announced_on: date
    effect: AnnouncementEffect
    agency_name: str
    title: str


Fact = VoteFact | LetterFact | ResponseFact | AnnouncementFact


@dataclass(frozen=True)
class CampaignState:
    """One jurisdiction's campaign as of a date (the date itself is the caller's)."""

    status: CampaignStatus = CampaignStatus.no_action
    status_since: date | None = None
    status_reason: Sentence | None = None
    sib_notified: bool = False
    ice_notified: bool = False
    awaiting_response: bool = False
    next_response_due_on: date | None = None
    # The earliest pending opt-out measure dated after the date asked about.
    next_vote_on: date | None = None
    # Set while a `program_ended` announcement has closed the campaign: nothing awaits.
    campaign_closed_on: date | None = None
    # The first date after the one asked about with an event recorded: until that day the
    # calendar alone changes nothing above (`overdue` reads the due date against its day).
    recompute_on: date | None = None

    @property
    def notice_complete(self) -> bool:
        return self.sib_notified and self.ice_notified

    def overdue(self, today: date) -> bool:
        return is_overdue(self.next_response_due_on, today)


def is_overdue(next_response_due_on: date | None, today: date) -> bool:
    """An unanswered notice letter is past its due date."""
    return next_response_due_on is not None and today > next_response_due_on


def is_activated(activated_on: date | None, today: date) -> bool:
    return activated_on is not None and activated_on <= today


def stage_of(fact: Fact) -> CampaignStatus | None:
    """The stage an event sets, or None when it sets none."""
    match fact:
        case VoteFact(topic=VoteTopic.opt_out):
            return VOTE_STAGES.get(fact.outcome)
        case VoteFact():
            return None
        case LetterFact():
            return CampaignStatus.notified if is_notice(fact) else None
        case ResponseFact():
            return RESPONSE_STAGES.get(fact.kind)
        case AnnouncementFact():
            return None  # it sets one only on a campaign open just before it: derive_status


def is_notice(letter: LetterFact) -> bool:
    """An opt-out or delay request sent to a SIB, ICE or DHS: the letters that notify."""
    return letter.purpose in NOTICE_PURPOSES and letter.agency_kind in NOTICE_AGENCIES


def event_date(fact: Fact) -> date:
    match fact:
        case VoteFact():
            return fact.held_on
        case LetterFact():
            return fact.sent_on
        case ResponseFact():
            return fact.received_on
        case AnnouncementFact():
            return fact.announced_on


# On one date: votes, then letters, then responses (a letter is answered after it is sent),
# then what was announced to everyone.
TYPE_ORDER = {VoteFact: 0, LetterFact: 1, ResponseFact: 2, AnnouncementFact: 3}


def calendar_order(fact: Fact) -> tuple[date, int, int, int, int]:
    """When an event takes effect, whenever it was typed in: by date; on one date the
    jurisdiction's own events first, the later stage after the earlier, then by kind
    (TYPE_ORDER); announcements after them (EFFECT_ORDER); the id only orders exact ties."""
    if isinstance(fact, AnnouncementFact):
        announced, effect = 1, EFFECT_ORDER[fact.effect]
        return (fact.announced_on, announced, effect, TYPE_ORDER[AnnouncementFact], fact.id)
    stage = stage_of(fact)
    return (event_date(fact), 0, stage.rank if stage else -1, TYPE_ORDER[type(fact)], fact.id)


def derive_status(
    votes: Iterable[VoteFact],
    letters: Iterable[LetterFact],
    responses: Iterable[ResponseFact],
    announcements: Iterable[AnnouncementFact],
    as_of: date,
) -> CampaignState:
    """Apply the contract's rules to one jurisdiction's events as of a date, in any order.

    Only events dated on or before `as_of` count; later ones are upcoming and decide
    nothing (a pending vote among them is `next_vote_on`)."""
    return _campaign(list(votes), list(letters), list(responses), list(announcements), as_of)[0]


def chain_starts(letters: Iterable[LetterFact]) -> dict[int, int]:
    """Each chaser's id → the letter its chain of follow-ups began with."""
    follows = {n.id: n.follows_letter_id for n in letters if n.follows_letter_id is not None}

    def start(letter_id: int) -> int:
        seen = {letter_id}
        while (earlier := follows.get(letter_id)) is not None and earlier not in seen:
            seen.add(letter_id := earlier)
        return letter_id

    return {letter_id: start(letter_id) for letter_id in follows}


def _unanswered(
    notices: list[LetterFact],
    letters: list[LetterFact],
    responses: list[ResponseFact],
    as_of: date,
) -> list[LetterFact]:
    """The notices no response answers by `as_of`: an answer to a chaser answers the letter
    it follows up too."""
    starts = chain_starts(letters)
    answered = {
        letter_id
        for r in responses
        if r.letter_id is not None and r.received_on <= as_of
        for letter_id in (r.letter_id, starts.get(r.letter_id, r.letter_id))
    }
    return [n for n in notices if n.id not in answered]


def _campaign(
    votes: list[VoteFact],
    letters: list[LetterFact],
    responses: list[ResponseFact],
    announcements: list[AnnouncementFact],
    as_of: date,
) -> tuple[CampaignState, date | None]:
    """The state as of `as_of`, and the date of the last closing (program ended) up to then:
    the current campaign is what came after it."""
    facts: list[Fact] = [*votes, *letters, *responses, *announcements]
    status = CampaignStatus.no_action
    deciding: Fact | None = None  # the event that decides the status, once there is one
    closed_on: date | None = None
    last_closing: date | None = None
    for fact in sorted((f for f in facts if event_date(f) <= as_of), key=calendar_order):
        if isinstance(fact, AnnouncementFact):
            if fact.effect is AnnouncementEffect.program_ended:
                closed_on, last_closing = closed_on or fact.announced_on, fact.announced_on
            elif (
                (stage := ANNOUNCED_STAGES.get(fact.effect))
                and closed_on is None
                and status in OPEN
            ):
                status, deciding = stage, fact
        elif (stage := stage_of(fact)) is not None:
            # Ascending order: the last one applied is the latest date, then the later stage.
            status, deciding = stage, fact
            closed_on = None  # an event of its own after the closing opens a new campaign

    notices = [n for n in letters if is_notice(n) and n.sent_on <= as_of]
    # A letter sent before a closing (or on its day) never awaits an answer again.
    unanswered = _unanswered(
        [n for n in notices if last_closing is None or n.sent_on > last_closing],
        letters,
        responses,
        as_of,
    )
    pending_votes = [
        v.held_on
        for v in votes
        if v.held_on > as_of and v.topic is VoteTopic.opt_out and v.outcome in PENDING
    ]
    state = CampaignState(
        status=status,
        status_since=event_date(deciding) if deciding else None,
        status_reason=describe(deciding) if deciding else None,
        sib_notified=any(n.agency_kind is AgencyKind.state_identification_bureau for n in notices),
        ice_notified=any(n.agency_kind in ICE_SIDE for n in notices),
        awaiting_response=bool(unanswered),
        next_response_due_on=min((n.response_due_on for n in unanswered), default=None),
        next_vote_on=min(pending_votes, default=None),
        campaign_closed_on=closed_on,
        recompute_on=min((d for f in facts if (d := event_date(f)) > as_of), default=None),
    )
    return state, last_closing


# Through the state, and activated despite opting out


Via = Literal["own", "state"]


@dataclass(frozen=True)
class Effective:
    status: CampaignStatus
    since: date | None
    via: Via


def effective_status(own: CampaignState, state_of_its_state: CampaignState | None) -> Effective:
    """The campaign that covers a jurisdiction: a county or city with no stage-setting event
    of its own (`no_action`) is covered by its state's, when the state has one; anything
    else by its own. `state_of_its_state` is None for a state itself."""
    state, none = state_of_its_state, CampaignStatus.no_action
    if own.status is none and state is not None and state.status is not none:
        return Effective(state.status, state.status_since, "state")
    return Effective(own.status, own.status_since, "own")


def opposed_on(votes: Iterable[VoteFact], letters: Iterable[LetterFact]) -> date | None:
    """The first date a campaign passed an opt-out vote or sent notice."""
    passed = (
        v.held_on for v in votes if v.topic is VoteTopic.opt_out and v.outcome is VoteOutcome.passed
    )
    return min([*passed, *(n.sent_on for n in letters if is_notice(n))], default=None)


def activated_despite_opt_out(
    activated_on: date | None, as_of: date, opposed_on: date | None
) -> bool:
    """Activated on or before `as_of`, though the effective campaign (its own, or its
    state's when covered through the state: `opposed_on` of that campaign's facts) had
    passed an opt-out vote or sent notice before the activation."""
    return (
        activated_on is not None
        and activated_on <= as_of
        and opposed_on is not None
        and opposed_on < activated_on
    )


def rollout(
    activated_on: date | None,
    scheduled_activation_on: date | None,
    as_of: date,
    despite_opt_out: bool,
) -> Rollout:
    """Where the program stood in a jurisdiction as of `as_of`: activated (despite opting
    out, or not), a date set for it, or nothing yet. An activation dated later is unknown
    then: it does not count as scheduled."""
    if is_activated(activated_on, as_of):
        return Rollout.activated_despite_opt_out if despite_opt_out else Rollout.activated
    if scheduled_activation_on is not None and scheduled_activation_on > as_of:
        return Rollout.activation_scheduled
    return Rollout.not_activated


# Next steps (the follow-up list)


class Step(StrEnum):
    send_notice = "send_notice"  # an opt-out vote passed, no notice sent
    notify_sib = "notify_sib"  # notice went to ICE (or DHS) only
    notify_ice = "notify_ice"  # notice went to the SIB only
    chase = "chase"  # an answer is overdue
    log_outcome = "log_outcome"  # a scheduled vote's date has passed without an outcome
    confirm_activation = "confirm_activation"  # activation date passed, `activated_on` unset


@dataclass(frozen=True)
class NextStep:
    step: Step
    due_on: date  # the date it became due
    letter_id: int | None = None  # for `chase`: the notice whose answer is awaited


ONE_DAY = timedelta(days=1)


def next_steps(
    votes: Iterable[VoteFact],
    letters: Iterable[LetterFact],
    responses: Iterable[ResponseFact],
    announcements: Iterable[AnnouncementFact],
    as_of: date,
    *,
    scheduled_activation_on: date | None,
    activated_on: date | None,
) -> list[NextStep]:
    """What a campaign under way (UNDER_WAY, not closed) asks for as of `as_of`, in the
    contract's order; only events of the current campaign (after the last closing) count.

    A date "has passed" the day after it: a chase is due the day after the answer was, the
    outcome of a vote the day after it was held."""
    votes, letters, responses = list(votes), list(letters), list(responses)
    state, last_closing = _campaign(votes, letters, responses, list(announcements), as_of)
    if state.campaign_closed_on is not None or state.status not in UNDER_WAY:
        return []

    def current(on: date) -> bool:
        return on <= as_of and (last_closing is None or on > last_closing)

    opt_outs = [v for v in votes if v.topic is VoteTopic.opt_out and current(v.held_on)]
    notices = [n for n in letters if is_notice(n) and current(n.sent_on)]
    to_sib = [n.sent_on for n in notices if n.agency_kind is AgencyKind.state_identification_bureau]
    to_ice = [n.sent_on for n in notices if n.agency_kind in ICE_SIDE]
    passed = [v.held_on for v in opt_outs if v.outcome is VoteOutcome.passed]
    held = [v.held_on for v in opt_outs if v.outcome is VoteOutcome.scheduled and v.held_on < as_of]
    activation = scheduled_activation_on
    # A chaser puts the chase off until its own answer is due; an answer to it ends it.
    starts = chain_starts(letters)
    chased_until: dict[int, date] = {}
    for chaser in letters:
        if chaser.id in starts and current(chaser.sent_on):
            first = starts[chaser.id]
            chased_until[first] = max(
                chased_until.get(first, chaser.response_due_on), chaser.response_due_on
            )
    # The notice longest overdue (a chaser's own due date counting for the one it follows).
    waits = sorted(
        (max(n.response_due_on, chased_until.get(n.id, n.response_due_on)), n.sent_on, n.id)
        for n in _unanswered(notices, letters, responses, as_of)
    )
    overdue = next(((until, n_id) for until, _, n_id in waits if until < as_of), None)
    steps = [
        NextStep(Step.send_notice, min(passed)) if passed and not notices else None,
        NextStep(Step.notify_sib, min(to_ice)) if to_ice and not to_sib else None,
        NextStep(Step.notify_ice, min(to_sib)) if to_sib and not to_ice else None,
        NextStep(Step.chase, overdue[0] + ONE_DAY, overdue[1]) if overdue else None,
        NextStep(Step.log_outcome, min(held) + ONE_DAY) if held else None,
        NextStep(Step.confirm_activation, activation + ONE_DAY)
        if activation is not None and activation < as_of and not is_activated(activated_on, as_of)
        else None,
    ]
    return [step for step in steps if step is not None]


_PURPOSE_WORDS = {
    LetterPurpose.opt_out_request: Sentence("Opt-out request"),
    LetterPurpose.activation_delay_request: Sentence("Request to delay activation"),
    LetterPurpose.clarification_request: Sentence("Request for clarification"),
    LetterPurpose.follow_up: Sentence("Follow-up letter"),
    LetterPurpose.records_request: Sentence("Records request"),
    LetterPurpose.other: Sentence("Letter"),
}
CHANNEL_WORDS = {  # how a letter went, as a sentence says it
    Channel.email: Sentence("by email"),
    Channel.mail: Sentence("by mail"),
    Channel.fax: Sentence("by fax"),
    Channel.hand_delivery: Sentence("by hand"),
}


def describe(fact: Fact) -> Sentence:
    """One human sentence for an event, e.g. 'Board of Supervisors voted 4–1 to opt out',
    said in the reader's language (each sentence whole in the catalog, its parts named)."""
    match fact:
        case VoteFact(topic=VoteTopic.opt_out):
            return _opt_out_vote(fact)
        case VoteFact():
            related = _RELATED_WORDS[fact.topic]
            return Sentence("{related}: {vote}", related=related, vote=_related_vote(fact))
        case LetterFact():
            purpose, agency = _PURPOSE_WORDS[fact.purpose], fact.agency_name
            if fact.channel is None:
                return Sentence("{purpose} sent to {agency}", purpose=purpose, agency=agency)
            return Sentence(
                "{purpose} sent to {agency} {channel}",
                purpose=purpose,
                agency=agency,
                channel=CHANNEL_WORDS[fact.channel],
            )
        case ResponseFact():
            return _RESPONSE_WORDS[fact.kind](fact)
        case AnnouncementFact():
            return Sentence(
                "{agency} announced on {day}: {title}",
                agency=fact.agency_name,
                day=fact.announced_on,
                title=fact.title,
            )


def _opt_out_vote(v: VoteFact) -> Sentence:
    body, measure, counted = v.body, v.measure, _tally(v)
    match v.outcome:
        case VoteOutcome.passed if counted:
            return Sentence("{body} voted {yes}–{no} to opt out", body=body, **counted)
        case VoteOutcome.passed:
            return Sentence("{body} voted to opt out", body=body)
        case VoteOutcome.failed if counted:
            return Sentence("{body} voted {yes}–{no} against opting out", body=body, **counted)
        case VoteOutcome.failed:
            return Sentence("{body} voted against opting out", body=body)
        case VoteOutcome.introduced if measure:
            return Sentence("{measure} was introduced in {body}", measure=measure, body=body)
        case VoteOutcome.introduced:
            return Sentence("An opt-out measure was introduced in {body}", body=body)
        case VoteOutcome.scheduled if measure:
            return Sentence(
                "{body} scheduled a vote on {measure} for {day}",
                body=body,
                measure=measure,
                day=v.held_on,
            )
        case VoteOutcome.scheduled:
            return Sentence(
                "{body} scheduled a vote on opting out for {day}", body=body, day=v.held_on
            )
        case VoteOutcome.tabled if measure:
            return Sentence("{body} tabled {measure}", body=body, measure=measure)
        case VoteOutcome.tabled:
            return Sentence("{body} tabled the opt-out measure", body=body)
        case VoteOutcome.withdrawn if measure:
            return Sentence("{measure} was withdrawn from {body}", measure=measure, body=body)
        case VoteOutcome.withdrawn:
            return Sentence("The opt-out measure was withdrawn from {body}", body=body)


_RELATED_WORDS = {
    VoteTopic.detainer_policy: Sentence("Related measure (detainer policy)"),
    VoteTopic.other_related: Sentence("Related measure"),
}
# What an untitled related measure is called, inside a sentence and at its start.
RELATED_MEASURE = {
    VoteTopic.detainer_policy: Sentence("a detainer policy"),
    VoteTopic.other_related: Sentence("a related measure"),
}
_RELATED_MEASURE_FIRST = {
    VoteTopic.detainer_policy: Sentence("A detainer policy"),
    VoteTopic.other_related: Sentence("A related measure"),
}


def _related_vote(v: VoteFact) -> Sentence:
    """A vote on another topic than opting out, e.g. 'County Board passed Ordinance 11-O-73'."""
    body: Part = v.body
    measure: Part = v.measure or RELATED_MEASURE[v.topic]
    first: Part = _capital(v.measure) if v.measure else _RELATED_MEASURE_FIRST[v.topic]
    counted = _tally(v)
    match v.outcome:
        case VoteOutcome.passed if counted:
            return Sentence(
                "{body} passed {measure} ({yes}–{no})",
                body=body,
                measure=measure,
                **counted,
            )
        case VoteOutcome.passed:
            return Sentence("{body} passed {measure}", body=body, measure=measure)
        case VoteOutcome.failed if counted:
            return Sentence(
                "{body} rejected {measure} ({yes}–{no})",
                body=body,
                measure=measure,
                **counted,
            )
        case VoteOutcome.failed:
            return Sentence("{body} rejected {measure}", body=body, measure=measure)
        case VoteOutcome.introduced:
            return Sentence("{measure} was introduced in {body}", measure=first, body=body)
        case VoteOutcome.scheduled:
            return Sentence(
                "{body} scheduled a vote on {measure} for {day}",
                body=body,
                measure=measure,
                day=v.held_on,
            )
        case VoteOutcome.tabled:
            return Sentence("{body} tabled {measure}", body=body, measure=measure)
        case VoteOutcome.withdrawn:
            return Sentence("{measure} was withdrawn from {body}", measure=first, body=body)


def _tally(v: VoteFact) -> dict[str, Part]:
    """The vote's count as a sentence's parts {yes, no}, if both are known."""
    return {"yes": v.yes, "no": v.no} if v.yes is not None and v.no is not None else {}


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _moved(r: ResponseFact) -> Sentence:
    if r.new_activation_on:
        return Sentence(
            "{agency} moved activation to {day}", agency=r.agency_name, day=r.new_activation_on
        )
    return Sentence("{agency} moved the activation date", agency=r.agency_name)


_RESPONSE_WORDS: dict[ResponseKind, Callable[[ResponseFact], Sentence]] = {
    ResponseKind.acknowledged: lambda r: Sentence(
        "{agency} acknowledged the request", agency=r.agency_name
    ),
    ResponseKind.meeting_requested: lambda r: Sentence(
        "{agency} asked for a meeting", agency=r.agency_name
    ),
    ResponseKind.meeting_held: lambda r: Sentence("Met with {agency}", agency=r.agency_name),
    ResponseKind.activation_date_adjusted: _moved,
    ResponseKind.denied: lambda r: Sentence(
        "{agency} denied the opt-out request", agency=r.agency_name
    ),
    ResponseKind.notifications_only: lambda r: Sentence(
        "{agency} offered notifications only: fingerprints are still shared", agency=r.agency_name
    ),
    ResponseKind.removed_from_deployment_plan: lambda r: Sentence(
        "{agency} removed the jurisdiction from the deployment plan", agency=r.agency_name
    ),
    ResponseKind.other: lambda r: Sentence("Answer from {agency}", agency=r.agency_name),
}
