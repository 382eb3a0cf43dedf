"""The loader of the release before every row became a record (main at e213b59), kept
verbatim but for its imports, to build the demo database an upgrade starts from: most rows
as lines of notes, a few as votes, letters and responses."""

import csv
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import partial

import sqlalchemy as sa
from sqlmodel import Session, col

from optout_tracker.enums import AgencyKind, LetterPurpose, ResponseKind, VoteOutcome
from optout_tracker.models import Agency, DatasetRecord, Jurisdiction
from optout_tracker.paths import DATA_DIR
from optout_tracker.refdata import resolve_fips
from optout_tracker.schemas import LetterCreate, ResponseCreate, VoteCreate
from optout_tracker.security import CLI, Principal
from optout_tracker.services import letters, responses, status_projection, votes

DATASET = "secure_communities_history"
HISTORY_CSV = DATA_DIR / "secure_communities_history.csv"


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
    def urls(self) -> list[str]:
        return [s for s in self.sources if s.startswith(("http://", "https://"))]

    @property
    def described(self) -> str:
        """The detail, with every source beyond the first (the record's URL field holds that)."""
        more = [s for s in self.sources if s != (self.urls[0] if self.urls else None)]
        return f"{self.detail} Other sources: {'; '.join(more)}" if more else self.detail

    @property
    def key(self) -> str:
        """Stable across loads and file orderings: where, when, what, and a digest of the text."""
        digest = hashlib.sha1(self.detail.encode()).hexdigest()[:10]
        return f"{self.fips or self.state}|{self.date_text}|{self.event_kind}|{digest}"

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


# What the curated rows faithfully say, keyed by (fips, date). Agencies are named by kind:
# "sib" is the state identification bureau of the jurisdiction's state (in California the
# Attorney General's Department of Justice), "ice" and "dhs" the national offices.


@dataclass(frozen=True)
class VoteSpec:
    body: str
    measure: str
    yes: int | None = None
    no: int | None = None


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
    answers: tuple[str, str] | None = None  # (fips, date) of the letter it answers


@dataclass(frozen=True)
class ActivationSpec:
    """A statewide activation: the state's own `activated_on`."""


Spec = VoteSpec | LetterSpec | ResponseSpec | ActivationSpec

SF_SHERIFF = "Sheriff Michael Hennessey"
CURATED: dict[tuple[str, str], tuple[Spec, ...]] = {
    ("06085", "2010-09-28"): (
        VoteSpec("Board of Supervisors", "Request to opt out of Secure Communities", 5, 0),
    ),
    ("51013", "2010-09-28"): (
        VoteSpec("County Board", "Resolution to withdraw from Secure Communities"),
    ),
    ("51013", "2010-10-07"): (
        LetterSpec("ice", LetterPurpose.opt_out_request, "Arlington County Manager",
                   "Arlington's inclusion in and withdrawal from Secure Communities"),
    ),
    ("51013", "2010-11-05"): (
        ResponseSpec("ice", ResponseKind.meeting_held),
    ),
    ("51013", "2011-03-01"): (
        ResponseSpec("ice", ResponseKind.denied, ("51013", "2010-10-07")),
    ),
    ("06075", "2010-05-18"): (
        LetterSpec("sib", LetterPurpose.opt_out_request, SF_SHERIFF,
                   "Request that San Francisco fingerprints not be shared with ICE"),
    ),
    ("06075", "2010-05-25"): (
        ResponseSpec("sib", ResponseKind.denied, ("06075", "2010-05-18")),
    ),
    ("06075", "2010-08-31"): (
        LetterSpec("sib", LetterPurpose.opt_out_request, SF_SHERIFF, "Opt-out request reaffirmed"),
        LetterSpec("ice", LetterPurpose.opt_out_request, SF_SHERIFF, "Opt-out request reaffirmed"),
    ),
    ("17", "2011-05-04"): (
        LetterSpec("ice", LetterPurpose.opt_out_request, "Governor Pat Quinn",
                   "Termination of the Illinois State Police–ICE memorandum of agreement"),
    ),
    ("17", "2011-08-18"): (
        LetterSpec("ice", LetterPurpose.clarification_request, "General counsel to Governor Quinn",
                   "Re-confirmation of the 26 participating Illinois counties"),
    ),
    ("36", "2011-06-01"): (
        LetterSpec("dhs", LetterPurpose.opt_out_request, None,
                   "New York suspends participation in Secure Communities"),
    ),
    ("25", "2011-06-03"): (
        LetterSpec("ice", LetterPurpose.opt_out_request,
                   "Mary Beth Heffernan, Secretary of Public Safety",
                   "Massachusetts will not sign the Secure Communities MOA"),
    ),
    ("51", "2010-06-21"): (ActivationSpec(),),
    ("25", "2012-05-15"): (ActivationSpec(),),
}  # fmt: skip


@dataclass
class DemoReport:
    activations: int = 0
    votes: int = 0
    letters: int = 0
    responses: int = 0
    notes: int = 0
    off_map: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = (
            f"set {self.activations} activation dates; added {self.votes} votes, "
            f"{self.letters} letters, {self.responses} responses and {self.notes} notes"
        )
        if self.off_map:
            text += (
                f"; rows for {', '.join(sorted(set(self.off_map)))} (not on the map) kept on ICE"
            )
        return text


class _Loader:
    """Applies rows once each: what a row made is recorded in dataset_record under its key."""

    def __init__(self, session: Session, response_window_days: int, actor: Principal) -> None:
        self.session = session
        self.window = response_window_days
        self.actor = actor
        self.report = DemoReport()
        self.by_fips = {j.fips: j for j in session.scalars(sa.select(Jurisdiction)) if j.fips}
        self.agencies = list(session.scalars(sa.select(Agency)))
        self.done = set(
            session.scalars(sa.select(col(DatasetRecord.key)).filter_by(dataset=DATASET))
        )
        self.letters: dict[tuple[str, str, str], int] = {}
        self.activated: set[int] = set()  # whose activation date this load set

    def once(self, key: str, entity: str, make: Callable[[], int | None]) -> None:
        """Run `make` unless this key was loaded before; remember what it made."""
        if key in self.done:
            return
        self.done.add(key)
        self.session.add(DatasetRecord(dataset=DATASET, key=key, entity=entity, entity_id=make()))

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
        attr = "notes" if isinstance(target, Agency) else "public_notes"
        setattr(target, attr, f"{getattr(target, attr) or ''}\n{line}".strip())
        self.report.notes += 1
        return target.id

    def apply(self, row: HistoryRow) -> None:
        key = row.key
        if row.state == "US":
            self.once(key, "agency", lambda: self.note(self.agency("ice", "US"), row.note()))
            return
        j = self.by_fips.get(resolve_fips(row.fips))
        if j is None:  # e.g. Puerto Rico, which the shipped map does not draw
            self.once(key, "agency", partial(self.off_map, row))
        elif row.event_kind == "activated":
            self.once(key, "jurisdiction", lambda: self.activation(j, row))
        elif specs := CURATED.get((row.fips, row.date_text)):
            for n, spec in enumerate(specs):
                self.once(f"{key}|{n}", type(spec).__name__, partial(self.curated, j, row, spec))
        else:
            self.once(key, "jurisdiction", lambda: self.note(j, row.note()))

    def off_map(self, row: HistoryRow) -> int | None:
        self.report.off_map.append(f"{row.jurisdiction} (FIPS {row.fips})")
        return self.note(self.agency("ice", "US"), f"{row.jurisdiction}: {row.note()}")

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

    def curated(self, j: Jurisdiction, row: HistoryRow, spec: Spec) -> int | None:
        source = row.urls[0] if row.urls else None
        match spec:
            case VoteSpec():
                self.report.votes += 1
                vote = votes.create(
                    self.session,
                    VoteCreate(
                        jurisdiction_id=j.id or 0,
                        body=spec.body,
                        held_on=row.on,
                        measure=spec.measure,
                        outcome=VoteOutcome.passed,
                        yes=spec.yes,
                        no=spec.no,
                        source_url=source,
                        public_notes=row.described,
                    ),
                    self.actor,
                )
                return vote.id
            case LetterSpec():
                self.report.letters += 1
                to = self.agency(spec.to, j.state)
                letter = letters.create(
                    self.session,
                    LetterCreate(
                        jurisdiction_id=j.id or 0,
                        agency_id=to.id or 0,
                        sent_on=row.on,
                        purpose=spec.purpose,
                        signed_by=spec.signed_by,
                        subject=spec.subject,
                        summary=row.described,
                        document_url=source,
                    ),
                    self.actor,
                    self.window,
                )
                self.letters[(row.fips, row.date_text, spec.to)] = letter.id or 0
                return letter.id
            case ResponseSpec():
                self.report.responses += 1
                answered = self.letters.get((*spec.answers, spec.sender)) if spec.answers else None
                response = responses.create(
                    self.session,
                    ResponseCreate(
                        jurisdiction_id=j.id or 0,
                        agency_id=self.agency(spec.sender, j.state).id or 0,
                        letter_id=answered,
                        received_on=row.on,
                        kind=spec.kind,
                        summary=row.described,
                        document_url=source,
                    ),
                    self.actor,
                )
                return response.id
            case ActivationSpec():
                return self.activation(j, row)


def load_history(
    session: Session,
    response_window_days: int,
    rows: list[HistoryRow] | None = None,
    actor: Principal = CLI,
) -> DemoReport:
    """Apply the historical dataset to a seeded database, in the caller's transaction."""
    loader = _Loader(session, response_window_days, actor)
    # Oldest first, so that letters exist before the responses that answer them.
    for row in sorted(rows if rows is not None else read_history(), key=lambda r: r.on):
        loader.apply(row)
    # activated_despite_opt_out reads the activation dates set above
    status_projection.refresh(session, loader.activated)
    return loader.report
