"""A change to a campaign record, told in a sentence ("Marin County sent an opt-out request
to ICE"): what `/activity` and the Atom feeds say instead of field diffs, in the language
of the answer (each sentence whole in the catalog, its parts named, so that a translator
can order them as their language does)."""

from collections.abc import Mapping
from datetime import date
from typing import Any

from .enums import AuditAction, LetterPurpose, ResponseKind, VoteOutcome, VoteTopic
from .i18n import N_, Sentence, gettext, pgettext
from .status import RELATED_MEASURE
from .wording import day, words

# What a new vote did, by its outcome: with its tally, and without.
VOTED: dict[str | None, tuple[str, str]] = {
    VoteOutcome.introduced: (
        N_("{place}: {body} introduced {measure} {yes}–{no}"),
        N_("{place}: {body} introduced {measure}"),
    ),
    VoteOutcome.scheduled: (
        N_("{place}: {body} scheduled a vote on {measure} {yes}–{no}"),
        N_("{place}: {body} scheduled a vote on {measure}"),
    ),
    VoteOutcome.passed: (
        N_("{place}: {body} passed {measure} {yes}–{no}"),
        N_("{place}: {body} passed {measure}"),
    ),
    VoteOutcome.failed: (
        N_("{place}: {body} rejected {measure} {yes}–{no}"),
        N_("{place}: {body} rejected {measure}"),
    ),
    VoteOutcome.tabled: (
        N_("{place}: {body} tabled {measure} {yes}–{no}"),
        N_("{place}: {body} tabled {measure}"),
    ),
    VoteOutcome.withdrawn: (
        N_("{place}: {body} withdrew {measure} {yes}–{no}"),
        N_("{place}: {body} withdrew {measure}"),
    ),
    None: (
        N_("{place}: {body} voted on {measure} {yes}–{no}"),
        N_("{place}: {body} voted on {measure}"),
    ),
}
# An untitled measure, by its topic (the related ones as the status sentences name them).
TOPIC_WORDS: dict[VoteTopic, Sentence] = {
    VoteTopic.opt_out: Sentence("an opt-out measure"),
    **RELATED_MEASURE,
}
PURPOSE_WORDS: dict[str, str] = {
    LetterPurpose.opt_out_request: N_("an opt-out request"),
    LetterPurpose.activation_delay_request: N_("a request to delay activation"),
    LetterPurpose.clarification_request: N_("a request for clarification"),
    LetterPurpose.follow_up: N_("a follow-up"),
    LetterPurpose.records_request: N_("a records request"),
    LetterPurpose.other: N_("a letter"),
}
ANSWER_WORDS: dict[str, str] = {
    ResponseKind.acknowledged: N_("letter acknowledged"),
    ResponseKind.meeting_requested: N_("a meeting asked for"),
    ResponseKind.meeting_held: N_("a meeting held"),
    ResponseKind.activation_date_adjusted: N_("activation date moved"),
    ResponseKind.removed_from_deployment_plan: N_("taken off the deployment plan"),
    ResponseKind.notifications_only: N_("notifications only"),
    ResponseKind.denied: N_("opt-out denied"),
}
# The day that names a record of each kind ("Marin County's vote of Mar 1, 2011").
DATED = {
    "vote": "held_on",
    "letter": "sent_on",
    "response": "received_on",
    "announcement": "announced_on",
}
FIELD_WORDS = {
    "agency_id": N_("agency"),
    "letter_id": N_("letter"),
    "parent_id": N_("part of"),
    "ocd_id": N_("OCD id"),
    "yes": N_("yes votes"),
    "no": N_("no votes"),
    "fips": N_("FIPS code"),
}
# A changed or deleted record: whose (or none), of which day (or none).
CHANGED = {
    (True, True): N_("{place}'s {record} of {day} was changed"),
    (True, False): N_("{place}'s {record} was changed"),
    (False, True): N_("The {record} of {day} was changed"),
    (False, False): N_("The {record} was changed"),
}
DELETED = {
    (True, True): N_("{place}'s {record} of {day} was deleted"),
    (True, False): N_("{place}'s {record} was deleted"),
    (False, True): N_("The {record} of {day} was deleted"),
    (False, False): N_("The {record} was deleted"),
}


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
        return _created(entity, values, place or gettext("A jurisdiction"), agencies)
    if entity == "jurisdiction":
        named = place or values.get("name") or gettext("A jurisdiction")
        if action is AuditAction.update:
            return gettext("{place} was changed").format(place=named)
        return gettext("{place} was deleted").format(place=named)
    when = values.get(DATED.get(entity, ""))
    patterns = CHANGED if action is AuditAction.update else DELETED
    return gettext(patterns[place is not None, bool(when)]).format(
        place=place,
        record=_record(entity),
        day=day(date.fromisoformat(when)) if when else "",
    )


def _record(entity: str) -> str:
    """The kind of record as a sentence above names it: "vote" in "Marin County's vote"
    (in Spanish with its article: "la votación de Marin County")."""
    match entity:
        case "vote":
            return pgettext("record named", "vote")
        case "letter":
            return pgettext("record named", "letter")
        case "response":
            return pgettext("record named", "response")
        case "announcement":
            return pgettext("record named", "announcement")
        case "agency":
            return pgettext("record named", "agency")
    return words(entity)


def _created(entity: str, v: Mapping[str, Any], place: str, agencies: Mapping[int, str]) -> str:
    agency = agencies.get(v.get("agency_id") or 0) or gettext("an agency")
    when = v.get(DATED.get(entity, ""))
    said = _new(entity, v, place, agency)
    if when:
        return gettext("{sentence} ({day})").format(
            sentence=said, day=day(date.fromisoformat(when))
        )
    return said


def _new(entity: str, v: Mapping[str, Any], place: str, agency: str) -> str:
    if entity == "vote":
        with_tally, without = VOTED.get(v.get("outcome"), VOTED[None])
        said = v.get("topic") or VoteTopic.opt_out  # a topic's value finds its StrEnum key
        topic = TOPIC_WORDS.get(said, TOPIC_WORDS[VoteTopic.opt_out])
        measure = (
            gettext("“{measure}”").format(measure=v["measure"]) if v.get("measure") else str(topic)
        )
        yes, no = v.get("yes"), v.get("no")
        pattern = with_tally if yes is not None and no is not None else without
        return gettext(pattern).format(
            place=place, body=v.get("body"), measure=measure, yes=yes, no=no
        )
    if entity == "letter":
        purpose = gettext(
            PURPOSE_WORDS.get(v.get("purpose") or "", PURPOSE_WORDS[LetterPurpose.other])
        )
        return gettext("{place} sent {purpose} to {agency}").format(
            place=place, purpose=purpose, agency=agency
        )
    if entity == "response":
        if answer := ANSWER_WORDS.get(v.get("kind") or ""):
            return gettext("{agency} answered {place}: {answer}").format(
                agency=agency, place=place, answer=gettext(answer)
            )
        return gettext("{agency} answered {place}").format(agency=agency, place=place)
    if entity == "announcement":
        scope, said = v.get("scope"), v.get("title")
        if scope in (None, "national"):
            return gettext("{agency} announced: {title}").format(agency=agency, title=said)
        return gettext("{agency} announced in {scope}: {title}").format(
            agency=agency, scope=scope, title=said
        )
    name, state = v.get("name") or place, v.get("state")
    if state:
        return gettext("{name}, {state} was added").format(name=name, state=state)
    return gettext("{name} was added").format(name=name)


def lines(changes: Mapping[str, list[Any]], agencies: Mapping[int, str]) -> list[str]:
    """Each changed field as a sentence: "Outcome: tabled → passed."."""
    return [
        gettext("{field}: {before} → {after}.").format(
            field=_label(k), before=_value(k, before, agencies), after=_value(k, after, agencies)
        )
        for k, (before, after) in sorted(changes.items())
    ]


def _label(field: str) -> str:
    named = FIELD_WORDS.get(field)
    text = gettext(named) if named else words(field.removesuffix("_on").removesuffix("_id"))
    return text[:1].upper() + text[1:]


def _value(field: str, value: Any, agencies: Mapping[int, str]) -> str:
    if value is None or value == "":
        return gettext("(empty)")
    if field == "agency_id":
        return agencies.get(value) or gettext("agency {id}").format(id=value)
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if field.endswith("_on") and isinstance(value, str):
        return day(date.fromisoformat(value))
    return (
        words(value) if isinstance(value, str) and "_" in value and " " not in value else str(value)
    )
