"""The campaign rules of the contract: which stage each event sets, and what follows.

Pure functions over plain facts, no I/O; services.status_projection feeds them from the
database and stores the result.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from .enums import (
    AgencyKind,
    CampaignStatus,
    Channel,
    LetterPurpose,
    ResponseKind,
    VoteOutcome,
    VoteTopic,
)

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


@dataclass(frozen=True)
class ResponseFact:
    id: int
    received_on: date
    kind: ResponseKind
    agency_name: str
    letter_id: int | None = None
    new_activation_on: date | None = None


Fact = VoteFact | LetterFact | ResponseFact


@dataclass(frozen=True)
class CampaignState:
    status: CampaignStatus = CampaignStatus.no_action
    status_since: date | None = None
    status_reason: str | None = None
    sib_notified: bool = False
    ice_notified: bool = False
    awaiting_response: bool = False
    next_response_due_on: date | None = None

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


# On one date: votes, then letters, then responses (a letter is answered after it is sent).
TYPE_ORDER = {VoteFact: 0, LetterFact: 1, ResponseFact: 2}


def derive_status(
    votes: Iterable[VoteFact], letters: Iterable[LetterFact], responses: Iterable[ResponseFact]
) -> CampaignState:
    """Apply the contract's rules to one jurisdiction's events, in any order."""
    letters = list(letters)
    responses = list(responses)
    facts: list[Fact] = [*votes, *letters, *responses]
    staged = [(f, s) for f in facts if (s := stage_of(f)) is not None]

    status, since, reason = CampaignStatus.no_action, None, None
    if staged:
        # Latest date wins, then the later stage; type and id only make the choice of the
        # sentence deterministic when two events tie on both.
        fact, status = max(
            staged,
            key=lambda fs: (event_date(fs[0]), fs[1].rank, TYPE_ORDER[type(fs[0])], fs[0].id),
        )
        since, reason = event_date(fact), describe(fact)

    notices = [letter for letter in letters if is_notice(letter)]
    answered = {r.letter_id for r in responses if r.letter_id is not None}
    unanswered = [letter for letter in notices if letter.id not in answered]
    return CampaignState(
        status=status,
        status_since=since,
        status_reason=reason,
        sib_notified=any(n.agency_kind is AgencyKind.state_identification_bureau for n in notices),
        ice_notified=any(n.agency_kind in ICE_SIDE for n in notices),
        awaiting_response=bool(unanswered),
        next_response_due_on=min((n.response_due_on for n in unanswered), default=None),
    )


def _tally(yes: int | None, no: int | None) -> str:
    return f" {yes}\u2013{no}" if yes is not None and no is not None else ""


def _day(d: date) -> str:
    return f"{d:%B} {d.day}, {d.year}"


_PURPOSE_WORDS = {
    LetterPurpose.opt_out_request: "Opt-out request",
    LetterPurpose.activation_delay_request: "Request to delay activation",
    LetterPurpose.clarification_request: "Request for clarification",
    LetterPurpose.records_request: "Records request",
    LetterPurpose.other: "Letter",
}
_CHANNEL_WORDS = {
    Channel.email: "by email",
    Channel.mail: "by mail",
    Channel.fax: "by fax",
    Channel.hand_delivery: "by hand",
}


def describe(fact: Fact) -> str:
    """One human sentence for an event, e.g. 'Board of Supervisors voted 4–1 to opt out'."""
    match fact:
        case VoteFact(topic=VoteTopic.opt_out):
            return _opt_out_vote(fact)
        case VoteFact():
            return f"{_RELATED_WORDS[fact.topic]}: {_related_vote(fact)}"
        case LetterFact():
            words = _PURPOSE_WORDS[fact.purpose]
            channel = f" {_CHANNEL_WORDS[fact.channel]}" if fact.channel else ""
            return f"{words} sent to {fact.agency_name}{channel}"
        case ResponseFact():
            return _RESPONSE_WORDS[fact.kind](fact)


def _opt_out_vote(v: VoteFact) -> str:
    match v.outcome:
        case VoteOutcome.passed:
            return f"{v.body} voted{_tally(v.yes, v.no)} to opt out"
        case VoteOutcome.failed:
            return f"{v.body} voted{_tally(v.yes, v.no)} against opting out"
        case VoteOutcome.introduced:
            return f"{v.measure or 'An opt-out measure'} was introduced in {v.body}"
        case VoteOutcome.scheduled:
            topic = v.measure or "opting out"
            return f"{v.body} scheduled a vote on {topic} for {_day(v.held_on)}"
        case VoteOutcome.tabled:
            return f"{v.body} tabled {v.measure or 'the opt-out measure'}"
        case VoteOutcome.withdrawn:
            return f"{v.measure or 'The opt-out measure'} was withdrawn from {v.body}"


_RELATED_WORDS = {
    VoteTopic.detainer_policy: "Related measure (detainer policy)",
    VoteTopic.other_related: "Related measure",
}
# What an untitled related measure is called, in a sentence.
RELATED_MEASURE = {
    VoteTopic.detainer_policy: "a detainer policy",
    VoteTopic.other_related: "a related measure",
}


def _related_vote(v: VoteFact) -> str:
    """A vote on another topic than opting out, e.g. 'County Board passed Ordinance 11-O-73'."""
    measure = v.measure or RELATED_MEASURE[v.topic]
    counted = f" ({v.yes}\u2013{v.no})" if v.yes is not None and v.no is not None else ""
    match v.outcome:
        case VoteOutcome.passed:
            return f"{v.body} passed {measure}{counted}"
        case VoteOutcome.failed:
            return f"{v.body} rejected {measure}{counted}"
        case VoteOutcome.introduced:
            return f"{_capital(measure)} was introduced in {v.body}"
        case VoteOutcome.scheduled:
            return f"{v.body} scheduled a vote on {measure} for {_day(v.held_on)}"
        case VoteOutcome.tabled:
            return f"{v.body} tabled {measure}"
        case VoteOutcome.withdrawn:
            return f"{_capital(measure)} was withdrawn from {v.body}"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


_RESPONSE_WORDS = {
    ResponseKind.acknowledged: lambda r: f"{r.agency_name} acknowledged the request",
    ResponseKind.meeting_requested: lambda r: f"{r.agency_name} asked for a meeting",
    ResponseKind.meeting_held: lambda r: f"Met with {r.agency_name}",
    ResponseKind.activation_date_adjusted: lambda r: (
        f"{r.agency_name} moved activation to {_day(r.new_activation_on)}"
        if r.new_activation_on
        else f"{r.agency_name} moved the activation date"
    ),
    ResponseKind.denied: lambda r: f"{r.agency_name} denied the opt-out request",
    ResponseKind.notifications_only: lambda r: (
        f"{r.agency_name} offered notifications only: fingerprints are still shared"
    ),
    ResponseKind.removed_from_deployment_plan: lambda r: (
        f"{r.agency_name} removed the jurisdiction from the deployment plan"
    ),
    ResponseKind.other: lambda r: f"Answer from {r.agency_name}",
}
