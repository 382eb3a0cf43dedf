"""A change to a campaign record, told in a sentence ("Marin County sent an opt-out request
to ICE"): what `/activity` and the Atom feeds say instead of field diffs."""

from collections.abc import Mapping
from datetime import date
from typing import Any

from .enums import AuditAction, LetterPurpose, ResponseKind, VoteOutcome, VoteTopic
from .wording import day, words

OUTCOME_VERBS: dict[str, str] = {
    VoteOutcome.introduced: "introduced",
    VoteOutcome.scheduled: "scheduled a vote on",
    VoteOutcome.passed: "passed",
    VoteOutcome.failed: "rejected",
    VoteOutcome.tabled: "tabled",
    VoteOutcome.withdrawn: "withdrew",
}
TOPIC_WORDS: dict[str, str] = {
    VoteTopic.opt_out: "an opt-out measure",
    VoteTopic.detainer_policy: "a detainer policy",
    VoteTopic.other_related: "a related measure",
}
PURPOSE_WORDS: dict[str, str] = {
    LetterPurpose.opt_out_request: "an opt-out request",
    LetterPurpose.activation_delay_request: "a request to delay activation",
    LetterPurpose.clarification_request: "a request for clarification",
    LetterPurpose.follow_up: "a follow-up",
    LetterPurpose.records_request: "a records request",
    LetterPurpose.other: "a letter",
}
ANSWER_WORDS: dict[str, str] = {
    ResponseKind.acknowledged: "letter acknowledged",
    ResponseKind.meeting_requested: "a meeting asked for",
    ResponseKind.meeting_held: "a meeting held",
    ResponseKind.activation_date_adjusted: "activation date moved",
    ResponseKind.removed_from_deployment_plan: "taken off the deployment plan",
    ResponseKind.notifications_only: "notifications only",
    ResponseKind.denied: "opt-out denied",
}
# The day that names a record of each kind ("Marin County's vote of Mar 1, 2011").
DATED = {
    "vote": "held_on",
    "letter": "sent_on",
    "response": "received_on",
    "announcement": "announced_on",
}
FIELD_WORDS = {
    "agency_id": "agency",
    "letter_id": "letter",
    "parent_id": "part of",
    "ocd_id": "OCD id",
}
FIELD_WORDS |= {"yes": "yes votes", "no": "no votes", "fips": "FIPS code"}


def title(
    entity: str,
    action: AuditAction,
    changes: Mapping[str, list[Any]],
    place: str | None,
    agencies: Mapping[int, str],
) -> str:
    """The change as one sentence: what a new record says, or which record was changed or
    deleted. `changes` maps each field to [before, after]; `place` names the jurisdiction."""
    values = {k: pair[0 if action is AuditAction.delete else 1] for k, pair in changes.items()}
    if action is AuditAction.create:
        return _created(entity, values, place or "A jurisdiction", agencies)
    done = "changed" if action is AuditAction.update else "deleted"
    if entity == "jurisdiction":
        return f"{place or values.get('name') or 'A jurisdiction'} was {done}"
    when = values.get(DATED.get(entity, ""))
    of_day = f" of {day(date.fromisoformat(when))}" if when else ""
    whose = f"{place}'s" if place else "The"
    return f"{whose} {words(entity)}{of_day} was {done}"


def _created(entity: str, v: Mapping[str, Any], place: str, agencies: Mapping[int, str]) -> str:
    agency = agencies.get(v.get("agency_id") or 0, "an agency")
    when = v.get(DATED.get(entity, ""))
    on = f" ({day(date.fromisoformat(when))})" if when else ""
    if entity == "vote":
        verb = OUTCOME_VERBS.get(v.get("outcome") or "", "voted on")
        what = f"“{v['measure']}”" if v.get("measure") else TOPIC_WORDS.get(v.get("topic") or "")
        yes, no = v.get("yes"), v.get("no")
        tally = f" {yes}–{no}" if yes is not None and no is not None else ""
        return f"{place}: {v.get('body')} {verb} {what or 'an opt-out measure'}{tally}{on}"
    if entity == "letter":
        return (
            f"{place} sent {PURPOSE_WORDS.get(v.get('purpose') or '', 'a letter')} to {agency}{on}"
        )
    if entity == "response":
        answer = ANSWER_WORDS.get(v.get("kind") or "")
        return f"{agency} answered {place}{f': {answer}' if answer else ''}{on}"
    if entity == "announcement":
        scope = v.get("scope")
        to = "" if scope in (None, "national") else f" in {scope}"
        return f"{agency} announced{to}: {v.get('title')}{on}"
    name, state = v.get("name") or place, v.get("state")
    return f"{name}, {state} was added" if state else f"{name} was added"


def lines(changes: Mapping[str, list[Any]], agencies: Mapping[int, str]) -> list[str]:
    """Each changed field as a sentence: "Outcome: tabled → passed."."""
    return [
        f"{_label(k)}: {_value(k, before, agencies)} → {_value(k, after, agencies)}."
        for k, (before, after) in sorted(changes.items())
    ]


def _label(field: str) -> str:
    text = FIELD_WORDS.get(field) or words(field.removesuffix("_on").removesuffix("_id"))
    return text[:1].upper() + text[1:]


def _value(field: str, value: Any, agencies: Mapping[int, str]) -> str:
    if value is None or value == "":
        return "(empty)"
    if field == "agency_id":
        return agencies.get(value, f"agency {value}")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if field.endswith("_on") and isinstance(value, str):
        return day(date.fromisoformat(value))
    return (
        words(value) if isinstance(value, str) and "_" in value and " " not in value else str(value)
    )
