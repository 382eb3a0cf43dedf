"""The written notice's form, a letter's printable page and PDF, and the chaser's form."""

from typing import Annotated
from urllib.parse import quote

from babel import Locale
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlmodel import Session

from .. import i18n
from ..enums import Access, Channel
from ..errors import AppError, FieldError, InvalidInput
from ..http import csrf
from ..http.auth import PrincipalDep
from ..http.deps import IdPath, SessionDep, SettingsDep
from ..i18n import Sentence, gettext, ngettext
from ..schemas import LetterCreate, NoticeCreate
from ..security import Principal
from ..services import documents, jurisdictions, notices
from ..text_input import field_errors, parse
from ..wording import words
from .access import Organizer
from .forms import FormData, Once
from .letter_pdf import letter_pdf
from .templating import LANGUAGE_NAMES, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.verify)])


def channels() -> list[tuple[str, str]]:
    """The channels a letter goes by, as the page's language writes them."""
    return [(c.value, words(c.value)) for c in Channel]


# The letter's language, each by its own name; English unless the organizer chooses.
LANGUAGES = [(code, LANGUAGE_NAMES[code]) for code in i18n.LOCALES]


def _language(form: dict[str, str]) -> str:
    """The language of the letter the form asks for (English for one the site does not speak)."""
    return i18n.known(form.get("language")) or i18n.SOURCE


def _plain(text: str) -> str:
    """A textarea's text as stored: line breaks as \\n, no trailing spaces."""
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").strip().split("\n"))


async def posted_recipients(request: Request) -> list[str]:
    """The recipients' boxes checked (a form posts one `recipients` field per box)."""
    return [v for v in (await request.form()).getlist("recipients") if isinstance(v, str)]


Recipients = Annotated[list[str], Depends(posted_recipients)]


def _draft(session: Session, slug: str) -> notices.NoticeDraft:
    j, status = jurisdictions.get_by_slug(session, slug)
    return notices.draft(session, j, (status.sib_notified, status.ice_notified))


def _notice_form(
    request: Request,
    principal: Principal,
    draft: notices.NoticeDraft,
    status_code: int = 200,
    *,
    values: dict[str, str] | None = None,
    checked: set[int] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    offered = [(a, (a.id in checked) if checked is not None else on) for a, on in draft.offered]
    return render(
        request,
        principal,
        "notice_form.html",
        status_code,
        j=draft.j,
        vote=draft.vote,
        offered=offered,
        values=values if values is not None else draft.values,
        errors=errors or {},
        channels=channels(),
        languages=LANGUAGES,
    )


@router.get("/jurisdictions/{slug}/notice", response_class=HTMLResponse)
def notice_form(request: Request, slug: str, session: SessionDep, principal: Organizer) -> Response:
    """The written notice, prefilled from the latest passed opt-out vote."""
    return _notice_form(request, principal, _draft(session, slug))


@router.post("/jurisdictions/{slug}/notice", response_class=HTMLResponse)
def send_notice(
    request: Request,
    slug: str,
    form: FormData,
    chosen: Recipients,
    session: SessionDep,
    principal: Organizer,
    once: Once,
    settings: SettingsDep,
) -> Response:
    """Log one letter per recipient checked, all or none."""
    draft = _draft(session, slug)
    checked = {int(v) for v in chosen if v.isdigit() and len(v) < 12}  # else not offered
    body = _plain(form.get("body", ""))
    # A text left as the form offered it (in either language) is written for each recipient
    # ("To the …:"), in the language chosen.
    as_offered = body in {_plain(text) for text in draft.wording.bodies.values()}
    data = {k: v for k, v in form.items() if k not in ("recipients", "language")} | {"body": body}
    try:
        if not checked:
            raise InvalidInput(
                "no recipient chosen",
                [FieldError("recipients", Sentence("check at least one agency"))],
            )
        with session.begin_nested():  # a refused form leaves nothing behind
            payload = NoticeCreate.model_validate(
                parse(NoticeCreate, data).model_dump()
                | {"recipients": sorted(checked), **({"body": None} if as_offered else {})}
            )
            window = settings.response_window_days
            sent = notices.send_notice(
                session, draft.j.id or 0, payload, principal, window, _language(form)
            )
    except (ValidationError, AppError) as exc:
        errors = {k.split("[")[0]: m for k, m in field_errors(exc).items()}
        return _notice_form(
            request, principal, draft, 422, values=form, checked=checked, errors=errors
        )
    n = len(sent)
    message = ngettext(
        "The notice was logged: {n} letter, ready to print or send.",
        "The notice was logged: {n} letters, ready to print or send.",
        n,
    ).format(n=n)
    return once.saved(f"/jurisdictions/{draft.j.slug}#notice", message)


# A letter


def mailto(view: notices.LetterView) -> str:
    """A mailto: link that opens the letter in the sender's mail program."""
    query = f"subject={quote(view.letter.subject or '')}&body={quote(view.text)}"
    return f"mailto:{quote(view.agency.email or '', safe='@')}?{query}"


def read_in(language: str) -> str:
    """The link to the letter in `language`, said in that language: "Leer en español"."""
    with i18n.using(language):
        name = Locale.parse(language).get_display_name(language) or language
        return i18n.gettext("Read in {language}").format(language=name)


# ?translation=es: the letter's translation, to read; not what was sent.
Translation = Annotated[str | None, Query()]


@router.get("/letters/{letter_id}.pdf")
def letter_as_pdf(
    letter_id: IdPath, session: SessionDep, translation: Translation = None
) -> Response:
    """The letter as a PDF, to print or attach (or its translation, to read)."""
    view = notices.letter_view(session, letter_id)
    if translation:
        view = view.translation(translation)
    return Response(
        letter_pdf(view),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="letter-{letter_id}.pdf"'},
    )


@router.get("/letters/{letter_id}", response_class=HTMLResponse)
def letter_page(
    request: Request,
    letter_id: IdPath,
    session: SessionDep,
    principal: PrincipalDep,
    translation: Translation = None,
) -> Response:
    """The letter, printable; with `translation`, the same letter in that language, to read."""
    sent = notices.letter_view(session, letter_id)
    view = sent.translation(translation) if translation else sent
    # The other version of the letter: the one sent, or its translation.
    other = sent.sent_in if view.reading else sent.translated_into
    query = f"?translation={other}" if other and not view.reading else ""
    return render(
        request,
        principal,
        "letter.html",
        view=view,
        other=(other, read_in(other), f"/letters/{letter_id}{query}") if other else None,
        mailto=mailto(sent),
        can_write=principal.can(Access.write),
        documents=documents.of_letter(session, view.letter, principal),
    )


def _chaser_form(
    request: Request,
    principal: Principal,
    view: notices.LetterView,
    values: dict[str, str],
    status_code: int = 200,
    errors: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        principal,
        "chaser_form.html",
        status_code,
        view=view,
        values=values,
        errors=errors or {},
        channels=channels(),
        languages=LANGUAGES,
    )


@router.get("/letters/{letter_id}/chaser", response_class=HTMLResponse)
def chaser_form(
    request: Request, letter_id: IdPath, session: SessionDep, principal: Organizer
) -> Response:
    """A follow-up to the letter, prefilled."""
    view = notices.letter_view(session, letter_id)
    return _chaser_form(request, principal, view, notices.chaser_values(session, view.letter))


@router.post("/letters/{letter_id}/chaser", response_class=HTMLResponse)
def send_chaser(
    request: Request,
    letter_id: IdPath,
    form: FormData,
    session: SessionDep,
    principal: Organizer,
    once: Once,
    settings: SettingsDep,
) -> Response:
    """Log the follow-up letter."""
    view = notices.letter_view(session, letter_id)
    first = view.letter
    data = {k: v for k, v in form.items() if k != "language"} | {
        "body": _plain(form.get("body", "")),
        "jurisdiction_id": str(first.jurisdiction_id),
        "agency_id": str(first.agency_id),
        "purpose": "follow_up",
    }
    try:
        with session.begin_nested():
            payload = parse(LetterCreate, data)
            window = settings.response_window_days
            language = _language(form)
            chaser = notices.send_chaser(session, first, payload, principal, window, language)
    except (ValidationError, AppError) as exc:
        errors = field_errors(exc)
        if "follows_letter_id" in errors:  # the one way a chaser's form can miss its letter
            errors["sent_on"] = gettext("is before the letter it follows ({day})").format(
                day=first.sent_on
            )
            del errors["follows_letter_id"]
        return _chaser_form(request, principal, view, form, 422, errors)
    logged = Sentence("The follow-up was logged, ready to print or send.")
    return once.saved(f"/letters/{chaser.id}", logged)
