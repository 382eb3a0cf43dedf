"""The historical dataset: the real 2008–2014 Secure Communities rollout and opt-out campaigns.

Activation dates go onto every county the file names; a statewide activation onto the
state's counties whose own date is missing or later. Every other row becomes the record of
the model that says what it says (CURATED below, one entry per row of the file): a vote of
its topic, a letter, a response or an announcement, each keeping the row's sources. A row
the table does not cover stops the load (UncuratedRows), so nothing is silently dropped.

Loading is idempotent and never overwrites a value users have set: what each row made is
remembered in `dataset_record` under the row's key. Records are created as the API creates
them (services' `create`), with their audit entries and webhook events, by the CLI. A
database loaded by an earlier release, which kept most rows as lines of notes, is upgraded
by loading again: each such row gets its record and its old note line is taken out.
"""

import csv
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import partial

import sqlalchemy as sa
from sqlmodel import Session, col

from .enums import (
    AgencyKind,
    AnnouncementEffect,
    JurisdictionKind,
    LetterPurpose,
    ResponseKind,
    VoteOutcome,
    VoteTopic,
)
from .models import Agency, DatasetRecord, Jurisdiction, Letter
from .paths import DATA_DIR
from .refdata import resolve_fips
from .schemas import NATIONAL, AnnouncementCreate, LetterCreate, ResponseCreate, VoteCreate
from .security import CLI, Principal
from .services import announcements, letters, records, responses, status_projection, votes

DATASET = "secure_communities_history"
HISTORY_CSV = DATA_DIR / "secure_communities_history.csv"
ACTIVATED = "activated"  # the one kind of row that is a date on a county, not a record


@dataclass(frozen=True)
class HistoryRow:
    jurisdiction: str
    state: str
    fips: str
    event_kind: str
    date_text: str
    detail: str
    sources: tuple[str, ...]

    @property
    def month_only(self) -> bool:
        return len(self.date_text) == 7

    @property
    def on(self) -> date:
        """The event's date; a month-only date (YYYY-MM) becomes the first of that month."""
        return date.fromisoformat(self.date_text + "-01" if self.month_only else self.date_text)

    @property
    def place(self) -> str:
        """The FIPS code of where it happened, or the state's code ("US" for federal rows)."""
        return self.fips or self.state

    @property
    def curated_key(self) -> tuple[str, str, str]:
        return (self.place, self.date_text, self.event_kind)

    @property
    def urls(self) -> list[str]:
        return [s for s in self.sources if s.startswith(("http://", "https://"))]

    @property
    def source_url(self) -> str | None:
        return self.urls[0] if self.urls else None

    @property
    def described(self) -> str:
        """The detail, with every source beyond the first URL (the record's URL field holds
        that), and a word when the date is known only to the month."""
        more = [s for s in self.sources if s != self.source_url]
        text = self.detail
        if more:
            label = "Other sources" if self.source_url else "Source"
            text += f" {label}: {'; '.join(more)}"
        if self.month_only:
            text += (
                f" Date known only to the month ({self.date_text}); "
                f"recorded as {self.on.isoformat()}."
            )
        return text

    @property
    def key(self) -> str:
        """Stable across loads and file orderings: where, when, what, and a digest of the text."""
        digest = hashlib.sha1(self.detail.encode()).hexdigest()[:10]
        return f"{self.place}|{self.date_text}|{self.event_kind}|{digest}"

    def note(self) -> str:
        when = f"{self.date_text} (month only)" if self.month_only else self.date_text
        return f"{when}: {self.detail} Source: {'; '.join(self.sources)}"


def read_history(path: str | None = None) -> list[HistoryRow]:
    with open(path or HISTORY_CSV, newline="", encoding="utf-8") as f:
        return [
            HistoryRow(
                jurisdiction=r["jurisdiction"],
                state=r["state"],
                fips=r["fips"],
                event_kind=r["event_kind"],
                date_text=r["date"],
                detail=r["detail"].rstrip(".") + ".",
                sources=tuple(s.strip() for s in r["source"].split(" ; ") if s.strip()),
            )
            for r in csv.DictReader(f)
        ]


# What each row of the file becomes. Agencies are named by kind: "sib" is the state
# identification bureau of the row's state (in California the Attorney General's Department
# of Justice), "ice" and "dhs" the national offices. An announcement's scope is the row's
# state, or national for the federal rows (state "US").


@dataclass(frozen=True)
class VoteSpec:
    body: str
    measure: str
    topic: VoteTopic = VoteTopic.opt_out
    outcome: VoteOutcome = VoteOutcome.passed
    yes: int | None = None
    no: int | None = None
    note: str | None = None  # what the record adds to the row's own words, and why


@dataclass(frozen=True)
class LetterSpec:
    to: str
    purpose: LetterPurpose
    signed_by: str | None  # None where the record names no signer
    subject: str


@dataclass(frozen=True)
class ResponseSpec:
    sender: str
    kind: ResponseKind
    answers: tuple[str, str, str] | None = None  # the curated key of the letter it answers


@dataclass(frozen=True)
class AnnouncementSpec:
    said_by: str
    effect: AnnouncementEffect
    title: str  # "{name}" is the row's jurisdiction
    note: str | None = None


@dataclass(frozen=True)
class StatewideActivation:
    """The program switched on in every county of the state at once."""


@dataclass(frozen=True)
class OffMap:
    """A place the shipped reference data does not hold: the row stays a note on ICE."""

    reason: str


Spec = VoteSpec | LetterSpec | ResponseSpec | AnnouncementSpec | StatewideActivation | OffMap

NONE = AnnouncementEffect.none
PASSED, FAILED, INTRODUCED = VoteOutcome.passed, VoteOutcome.failed, VoteOutcome.introduced
DETAINER, RELATED = VoteTopic.detainer_policy, VoteTopic.other_related
OPT_OUT_REQUEST = LetterPurpose.opt_out_request
# A state MOA: an agreement of the state's bureau with ICE, which lets the program be
# deployed in the state. Said by the bureau (the state's party; the row's date is the later
# of the two signatures), to its state, changing no campaign's status.
MOA = (
    AnnouncementSpec(
        "sib", NONE, "{name}'s identification bureau and ICE sign the Secure Communities MOA"
    ),
)
GOVERNOR = (
    "Said by the governor; recorded as said by the state's identification bureau, the "
    "state's party to the Secure Communities agreement."
)
SF_SHERIFF = "Sheriff Michael Hennessey"
SF_FIRST_LETTER = ("06075", "2010-05-18", "opt_out_request")
ARLINGTON_LETTER = ("51013", "2010-10-07", "opt_out_request")
DC_COUNCIL = "Council of the District of Columbia"

CURATED: dict[tuple[str, str, str], tuple[Spec, ...]] = {
    # The program, nationally.
    ("US", "2008-10-27", "program_launched"): (
        AnnouncementSpec("ice", NONE,
                         "Secure Communities begins: first activation in Harris County, TX"),
    ),
    ("US", "2010-08-17", "federal_policy"): (
        AnnouncementSpec("ice", NONE,
                         "“Setting the Record Straight”: opting out by written request"),
    ),
    ("US", "2011-08-05", "federal_policy"): (
        AnnouncementSpec("ice", AnnouncementEffect.opt_out_denied,
                         "ICE ends every state agreement: participation is not optional"),
    ),
    ("US", "2014-11-20", "federal_policy"): (
        AnnouncementSpec("dhs", AnnouncementEffect.program_ended,
                         "DHS discontinues Secure Communities: the Priority Enforcement "
                         "Program replaces it"),
    ),
    ("US", "2015-07-02", "federal_policy"): (
        AnnouncementSpec("ice", NONE,
                         "The Priority Enforcement Program replaces Secure Communities",
                         "ICE ran the Priority Enforcement Program."),
    ),
    ("US", "2017-01-25", "federal_policy"): (
        AnnouncementSpec("dhs", NONE, "Executive Order 13768 restarts Secure Communities",
                         "An order of the President, recorded as said by DHS, the department "
                         "it directs to restore the program."),
    ),
    # State agreements with ICE, and what states did about them.
    ("06", "2009-05-08", "state_moa_signed"): MOA,
    ("35", "2009-10-02", "state_moa_signed"): MOA,
    ("51", "2009-10-13", "state_moa_signed"): MOA,
    ("26", "2009-10-20", "state_moa_signed"): MOA,
    ("40", "2009-10-20", "state_moa_signed"): MOA,
    ("39", "2009-10-26", "state_moa_signed"): MOA,
    ("48", "2009-10-26", "state_moa_signed"): MOA,
    ("13", "2009-11-02", "state_moa_signed"): MOA,
    ("37", "2009-11-02", "state_moa_signed"): MOA,
    ("24", "2009-11-04", "state_moa_signed"): MOA,
    ("17", "2009-11-20", "state_moa_signed"): MOA,
    ("22", "2009-11-30", "state_moa_signed"): MOA,
    ("04", "2009-12-09", "state_moa_signed"): MOA,
    ("41", "2009-12-28", "state_moa_signed"): MOA,
    ("31", "2010-02-12", "state_moa_signed"): MOA,
    ("30", "2010-02-22", "state_moa_signed"): MOA,
    ("47", "2010-02-22", "state_moa_signed"): MOA,
    ("49", "2010-02-22", "state_moa_signed"): MOA,
    ("54", "2010-02-25", "state_moa_signed"): MOA,
    ("10", "2010-03-16", "state_moa_signed"): MOA,
    ("32", "2010-03-17", "state_moa_signed"): MOA,
    ("15", "2010-03-18", "state_moa_signed"): MOA,
    ("29", "2010-04-02", "state_moa_signed"): MOA,
    ("28", "2010-04-02", "state_moa_signed"): MOA,
    ("16", "2010-04-10", "state_moa_signed"): MOA,
    ("21", "2010-04-23", "state_moa_signed"): MOA,
    ("56", "2010-04-30", "state_moa_signed"): MOA,
    ("19", "2010-05-06", "state_moa_signed"): MOA,
    ("09", "2010-06-03", "state_moa_signed"): MOA,
    ("12", "2010-06-07", "state_moa_signed"): MOA,
    ("46", "2010-06-15", "state_moa_signed"): MOA,
    ("51", "2010-06-21", "statewide_activation"): (StatewideActivation(),),
    ("45", "2010-08-22", "state_moa_signed"): MOA,
    ("55", "2010-10-20", "state_moa_signed"): MOA,
    ("18", "2010-10-22", "state_moa_signed"): MOA,
    ("20", "2010-10-28", "state_moa_signed"): MOA,
    ("01", "2010-11-08", "state_moa_signed"): MOA,
    ("17", "2010-11-09", "state_suspension"): (
        AnnouncementSpec("sib", NONE, "Illinois suspends Secure Communities pending review",
                         "Directed by the governor's office; recorded as said by the state's "
                         "identification bureau, the Illinois State Police it directed."),
    ),
    ("72", "2010-12-03", "state_moa_signed"): (
        OffMap("Puerto Rico is neither on the shipped map nor a scope an announcement can "
               "have, and has no identification bureau among the agencies"),
    ),
    ("36", "2010-12-28", "state_moa_signed"): MOA,
    ("08", "2011-01-04", "state_moa_announced"): (
        AnnouncementSpec("sib", NONE, "Colorado joins Secure Communities with a modified MOA",
                         GOVERNOR),
    ),
    ("08", "2011-01-06", "state_moa_signed"): MOA,
    ("44", "2011-01-13", "state_moa_signed"): MOA,
    ("08", "2011-04-18", "state_bill_failed"): (
        VoteSpec("Colorado Senate",
                 "HB 1140: no state funds for local governments refusing to participate",
                 RELATED, FAILED),
    ),
    # A letter from the state to ICE (or DHS, its department) is notice: the campaign it
    # opens is the one ICE's letter of Aug 5, 2011 then denies.
    ("17", "2011-05-04", "state_withdrawal"): (
        LetterSpec("ice", OPT_OUT_REQUEST, "Governor Pat Quinn",
                   "Termination of the Illinois State Police–ICE memorandum of agreement"),
    ),
    ("36", "2011-06-01", "state_suspension"): (
        LetterSpec("dhs", OPT_OUT_REQUEST, None,
                   "New York suspends participation in Secure Communities"),
    ),
    ("25", "2011-06-03", "state_declined_moa"): (
        LetterSpec("ice", OPT_OUT_REQUEST, "Mary Beth Heffernan, Secretary of Public Safety",
                   "Massachusetts will not sign the Secure Communities MOA"),
    ),
    ("08", "2011-06-06", "state_review"): (
        AnnouncementSpec("sib", NONE, "Colorado evaluates its participation in Secure Communities",
                         GOVERNOR),
    ),
    ("17", "2011-08-18", "letter"): (
        LetterSpec("ice", LetterPurpose.clarification_request, "General counsel to Governor Quinn",
                   "Re-confirmation of the 26 participating Illinois counties"),
    ),
    ("25", "2012-05-15", "statewide_activation"): (StatewideActivation(),),
    ("06", "2013-10-05", "state_law_signed"): (
        VoteSpec("California Legislature", "TRUST Act (AB 4)", DETAINER, PASSED,
                 note="Dated the day Gov. Jerry Brown signed it into law."),
    ),
    # Washington, DC.
    ("11001", "2009-11", "local_moa_signed"): (
        AnnouncementSpec("sib", NONE, "DC's police and ICE sign a Secure Communities MOA",
                         "Signed by the Metropolitan Police Department; recorded as said by the "
                         "District's identification bureau."),
    ),
    ("11001", "2010-05-04", "bill_introduced"): (
        VoteSpec(DC_COUNCIL, "Secure Communities Act of 2010", outcome=INTRODUCED),
    ),
    ("11001", "2012-06-05", "detainer_law"): (
        VoteSpec(DC_COUNCIL, "Immigration Detainer Compliance Amendment Act (emergency)",
                 DETAINER, PASSED),
    ),
    ("11001", "2012-07-10", "detainer_law"): (
        VoteSpec(DC_COUNCIL, "Detainer bill modeled on Cook County's policy", DETAINER, PASSED),
    ),
    # Cook County, IL.
    ("17031", "2010-03-04", "ice_planning"): (ResponseSpec("ice", ResponseKind.other),),
    ("17031", "2011-09-07", "ordinance_passed"): (
        VoteSpec("County Board", "Policy for Responding to ICE Detainers", DETAINER, PASSED),
    ),
    # San Francisco, CA.
    SF_FIRST_LETTER: (
        LetterSpec("sib", OPT_OUT_REQUEST, SF_SHERIFF,
                   "Request that San Francisco fingerprints not be shared with ICE"),
    ),
    ("06075", "2010-05-25", "opt_out_denied"): (
        ResponseSpec("sib", ResponseKind.denied, SF_FIRST_LETTER),
    ),
    ("06075", "2010-08-31", "opt_out_request"): (
        LetterSpec("sib", OPT_OUT_REQUEST, SF_SHERIFF, "Opt-out request reaffirmed"),
        LetterSpec("ice", OPT_OUT_REQUEST, SF_SHERIFF, "Opt-out request reaffirmed"),
    ),
    # Santa Clara County, CA.
    ("06085", "2010-06-22", "resolution_passed"): (
        VoteSpec("Board of Supervisors", "Resolution restating the county's policy of "
                 "non-involvement in federal civil immigration enforcement", RELATED, PASSED),
    ),
    ("06085", "2010-08-10", "board_action"): (
        VoteSpec("Board of Supervisors", "Direction to County Counsel to clarify whether the "
                 "county is obliged to participate in Secure Communities", RELATED, PASSED),
    ),
    ("06085", "2010-09-28", "opt_out_vote"): (
        VoteSpec("Board of Supervisors", "Request to opt out of Secure Communities", yes=5, no=0),
    ),
    ("06085", "2011-10-18", "detainer_policy"): (
        VoteSpec("Board of Supervisors", "Civil Detainer Policy (Board Policy 3.54)", DETAINER,
                 PASSED, 3, 1),
    ),
    # Arlington County, VA.
    ("51013", "2010-09-28", "opt_out_vote"): (
        VoteSpec("County Board", "Resolution to withdraw from Secure Communities"),
    ),
    ARLINGTON_LETTER: (
        LetterSpec("ice", OPT_OUT_REQUEST, "Arlington County Manager",
                   "Arlington's inclusion in and withdrawal from Secure Communities"),
    ),
    # The county's meeting with ICE after its letter: negotiation, not a planning meeting.
    ("51013", "2010-11-05", "meeting"): (ResponseSpec("ice", ResponseKind.meeting_held),),
    ("51013", "2011-03-01", "opt_out_denied"): (
        ResponseSpec("ice", ResponseKind.denied, ARLINGTON_LETTER),
    ),
}  # fmt: skip


class UncuratedRows(ValueError):
    """Rows of the history that CURATED does not say what to make of."""


def uncurated(rows: Iterable[HistoryRow]) -> list[HistoryRow]:
    return [r for r in rows if r.event_kind != ACTIVATED and r.curated_key not in CURATED]


def spec_key(row: HistoryRow, n: int, spec: Spec) -> str:
    """The dataset_record key of what `spec` made of `row`: the same as an earlier release
    gave the rows it already mapped, so that an upgrade never makes them twice."""
    match spec:
        case OffMap():
            return row.key  # a note, as before
        case StatewideActivation():
            return f"{row.key}|statewide"  # earlier releases set only the state's own date
        case _:
            return f"{row.key}|{n}"


ENTITIES = {
    VoteSpec: "vote",
    LetterSpec: "letter",
    ResponseSpec: "response",
    AnnouncementSpec: "announcement",
    StatewideActivation: "jurisdiction",
    OffMap: "agency",
}


@dataclass
class DemoReport:
    activations: int = 0
    votes: int = 0
    letters: int = 0
    responses: int = 0
    announcements: int = 0
    notes: int = 0
    notes_replaced: int = 0  # lines of an earlier release's notes now records
    off_map: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = (
            f"set {self.activations} activation dates; added {self.votes} votes, "
            f"{self.letters} letters, {self.responses} responses, "
            f"{self.announcements} announcements and {self.notes} notes"
        )
        if self.notes_replaced:
            text += f"; replaced {self.notes_replaced} notes of an earlier load by records"
        if self.off_map:
            text += (
                f"; rows for {', '.join(sorted(set(self.off_map)))} (not on the map) kept on ICE"
            )
        return text


class _Loader:
    """Applies rows once each: what a row made is recorded in dataset_record under its key."""

    def __init__(
        self,
        session: Session,
        response_window_days: int,
        actor: Principal,
        rows: list[HistoryRow],
    ) -> None:
        self.session = session
        self.window = response_window_days
        self.actor = actor
        self.report = DemoReport()
        self.by_fips = {j.fips: j for j in session.scalars(sa.select(Jurisdiction)) if j.fips}
        self.agencies = list(session.scalars(sa.select(Agency)))
        loaded = sa.select(col(DatasetRecord.key), col(DatasetRecord.entity_id)).where(
            col(DatasetRecord.dataset) == DATASET
        )
        self.made: dict[str, int | None] = dict(session.execute(loaded).all())
        self.rows = {r.curated_key: r for r in rows}
        # Each county's date in the file (the earliest, for a retired code and its successor).
        self.file_dates: dict[str, date] = {}
        for r in rows:
            if r.event_kind == ACTIVATED:
                fips = resolve_fips(r.fips)
                self.file_dates[fips] = min(r.on, self.file_dates.get(fips, r.on))
        self.activated: set[int] = set()  # whose activation date this load set

    def once(self, key: str, entity: str, make: Callable[[], int | None]) -> None:
        """Run `make` unless this key was loaded before; remember what it made."""
        if key in self.made:
            return
        self.made[key] = made = make()
        self.session.add(DatasetRecord(dataset=DATASET, key=key, entity=entity, entity_id=made))

    def agency(self, who: str, state: str) -> Agency:
        if who == "sib":
            kind, wanted_state = AgencyKind.state_identification_bureau, state
        else:
            kind, wanted_state = AgencyKind(who), None
        for a in self.agencies:
            if a.kind == kind and (wanted_state is None or a.state == wanted_state):
                return a
        raise LookupError(f"no {kind} agency for {state}: run `optout-tracker seed` first")

    def note(self, target: Jurisdiction | Agency, line: str) -> int | None:
        """Add a line to the notes, once: a line already there is not written again."""
        attr = "notes" if isinstance(target, Agency) else "public_notes"
        text = getattr(target, attr) or ""
        if line not in text.splitlines():
            setattr(target, attr, f"{text}\n{line}".strip())
            self.report.notes += 1
        return target.id

    def apply(self, row: HistoryRow) -> None:
        if row.event_kind == ACTIVATED:
            j = self.by_fips[resolve_fips(row.fips)]
            self.once(row.key, "jurisdiction", lambda: self.activation(j, row))
            return
        specs = CURATED[row.curated_key]
        for n, spec in enumerate(specs):
            if not isinstance(spec, StatewideActivation):  # after every county's own date
                make = partial(self.make, row, spec)
                self.once(spec_key(row, n, spec), ENTITIES[type(spec)], make)
        if not any(isinstance(s, OffMap) for s in specs):
            self.retire_note(row)

    def make(self, row: HistoryRow, spec: Spec) -> int | None:
        match spec:
            case VoteSpec():
                return self.vote(row, spec)
            case LetterSpec():
                return self.letter(row, spec)
            case ResponseSpec():
                return self.response(row, spec)
            case AnnouncementSpec():
                return self.announcement(row, spec)
            case OffMap():
                self.report.off_map.append(f"{row.jurisdiction} (FIPS {row.fips})")
                return self.note(self.agency("ice", "US"), f"{row.jurisdiction}: {row.note()}")
            case StatewideActivation():
                return self.statewide(row)

    def jurisdiction_of(self, row: HistoryRow) -> Jurisdiction:
        return self.by_fips[resolve_fips(row.fips)]

    def vote(self, row: HistoryRow, spec: VoteSpec) -> int | None:
        self.report.votes += 1
        notes = f"{row.described} {spec.note}" if spec.note else row.described
        vote = votes.create(
            self.session,
            VoteCreate(
                jurisdiction_id=self.jurisdiction_of(row).id or 0,
                body=spec.body,
                held_on=row.on,
                measure=spec.measure,
                topic=spec.topic,
                outcome=spec.outcome,
                yes=spec.yes,
                no=spec.no,
                source_url=row.source_url,
                public_notes=notes,
            ),
            self.actor,
        )
        return vote.id

    def letter(self, row: HistoryRow, spec: LetterSpec) -> int | None:
        self.report.letters += 1
        j = self.jurisdiction_of(row)
        letter = letters.create(
            self.session,
            LetterCreate(
                jurisdiction_id=j.id or 0,
                agency_id=self.agency(spec.to, j.state).id or 0,
                sent_on=row.on,
                purpose=spec.purpose,
                signed_by=spec.signed_by,
                subject=spec.subject,
                summary=row.described,
                document_url=row.source_url,
            ),
            self.actor,
            self.window,
        )
        return letter.id

    def response(self, row: HistoryRow, spec: ResponseSpec) -> int | None:
        self.report.responses += 1
        j = self.jurisdiction_of(row)
        response = responses.create(
            self.session,
            ResponseCreate(
                jurisdiction_id=j.id or 0,
                agency_id=self.agency(spec.sender, j.state).id or 0,
                letter_id=self.letter_made_for(spec.answers) if spec.answers else None,
                received_on=row.on,
                kind=spec.kind,
                summary=row.described,
                document_url=row.source_url,
            ),
            self.actor,
        )
        return response.id

    def letter_made_for(self, curated_key: tuple[str, str, str]) -> int | None:
        """The letter this load (or an earlier one) made of that row, if it still exists."""
        row = self.rows.get(curated_key)
        letter_id = self.made.get(spec_key(row, 0, CURATED[curated_key][0])) if row else None
        return letter_id if letter_id and self.session.get(Letter, letter_id) else None

    def announcement(self, row: HistoryRow, spec: AnnouncementSpec) -> int | None:
        self.report.announcements += 1
        national = row.state == "US"
        summary = f"{row.described} {spec.note}" if spec.note else row.described
        announcement = announcements.create(
            self.session,
            AnnouncementCreate(
                agency_id=self.agency(spec.said_by, row.state).id or 0,
                announced_on=row.on,
                scope=NATIONAL if national else row.state,
                effect=spec.effect,
                title=spec.title.format(name=row.jurisdiction),
                summary=summary,
                source_url=row.source_url,
            ),
            self.actor,
        )
        return announcement.id

    def activation(self, j: Jurisdiction, row: HistoryRow) -> int | None:
        if j.activated_on is None:
            j.activated_on = row.on
            self.report.activations += 1
            self.activated.add(j.id or 0)
        self.note(j, row.note())
        if row.month_only:
            self.note(j, f"Activation date known only to the month ({row.date_text}); "
                         f"recorded as {row.on.isoformat()}.")  # fmt: skip
        if j.fips != row.fips:
            self.note(j, f"Activated {row.date_text} as {row.jurisdiction} (FIPS {row.fips}), "
                         f"now part of {j.name}.")  # fmt: skip
        return j.id

    def statewide(self, row: HistoryRow) -> int | None:
        """The state's own date, and every county's whose date is missing or later. A later
        date is replaced only where it is the file's own (what a load set, not a user's)."""
        state = self.jurisdiction_of(row)
        self.activation(state, row)
        for j in self.by_fips.values():
            if j.state != row.state or j.kind is not JurisdictionKind.county:
                continue
            own = self.file_dates.get(j.fips or "")
            if j.activated_on is None or (j.activated_on > row.on and j.activated_on == own):
                j.activated_on = row.on
                self.report.activations += 1
                self.activated.add(j.id or 0)
                had = f"ICE's county data says {own.isoformat()}" if own else "no county date"
                self.note(j, f"Activated on {row.on.isoformat()} with all of {state.name} "
                             f"({had}). Source: {'; '.join(row.sources)}")  # fmt: skip
        return state.id

    def retire_note(self, row: HistoryRow) -> None:
        """Upgrade: an earlier release kept this row as a line of notes (under the bare row
        key); now that it has its records, take that line out, unless a user rewrote it."""
        if row.key not in self.made:
            return
        marker = self.session.scalars(
            sa.select(DatasetRecord).filter_by(dataset=DATASET, key=row.key)
        ).one()
        target: Agency | Jurisdiction | None = (
            self.session.get(Agency, marker.entity_id)
            if marker.entity == "agency"
            else self.session.get(Jurisdiction, marker.entity_id)
        )
        if target is not None:
            attr = "notes" if isinstance(target, Agency) else "public_notes"
            lines = (getattr(target, attr) or "").splitlines()
            old = {row.note(), f"{row.jurisdiction}: {row.note()}"}
            kept = [line for line in lines if line not in old]
            if len(kept) < len(lines):
                records.update(self.session, target, {attr: "\n".join(kept) or None}, self.actor)
                self.report.notes_replaced += 1
        self.session.delete(marker)
        del self.made[row.key]


def load_history(
    session: Session,
    response_window_days: int,
    rows: list[HistoryRow] | None = None,
    actor: Principal = CLI,
) -> DemoReport:
    """Apply the historical dataset to a seeded database, in the caller's transaction."""
    rows = rows if rows is not None else read_history()
    if missing := uncurated(rows):
        lines = "; ".join(f"{r.place} {r.date_text} {r.event_kind}" for r in missing)
        raise UncuratedRows(f"CURATED does not say what to make of: {lines}")
    loader = _Loader(session, response_window_days, actor, rows)
    # Oldest first, so that letters exist before the responses that answer them.
    ordered = sorted(rows, key=lambda r: r.on)
    for row in ordered:
        loader.apply(row)
    for row in ordered:  # statewide, once every county has its own date
        for n, spec in enumerate(CURATED.get(row.curated_key, ())):
            if isinstance(spec, StatewideActivation):
                loader.once(spec_key(row, n, spec), "jurisdiction", partial(loader.statewide, row))
    # activated_despite_opt_out reads the activation dates set above
    status_projection.refresh(session, loader.activated)
    return loader.report
