"""Spanish for every message a person meets on a form or after saving one (issue 17): field
errors (pydantic's, the schemas' own, the services' refusals), the error summary, the notes
after saving, the error pages; while the API's errors stay in English, its contract."""

import html
import re
from datetime import date
from functools import cache
from typing import Annotated

import pytest
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field, StrictInt, StringConstraints, ValidationError
from sqlmodel import Session

from optout_tracker import i18n
from optout_tracker.enums import AgencyKind, VoteOutcome
from optout_tracker.errors import FieldError, InvalidInput, english
from optout_tracker.i18n import Sentence
from optout_tracker.schemas import VoteCreate
from optout_tracker.text_input import PYDANTIC, error_message, field_errors
from tests import factories
from tests.conftest import Credentials
from tests.forms import defaults
from tests.test_pages import csrf, sign_in

CATALOG = i18n.CATALOGS / "es" / "LC_MESSAGES" / "messages.po"
SLUG = "ca-alameda-county"
REQUIRED = "Este campo es obligatorio"


@cache
def english_messages() -> list[re.Pattern[str]]:
    """Each English message of the catalog that Spanish says otherwise, as a pattern that
    matches it with any parts in its placeholders."""
    patterns = []
    for m in read_po(CATALOG.open("rb")):
        ids = [str(i) for i in (m.id if isinstance(m.id, tuple | list) else (m.id,))]
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        for msgid in ids:
            if not msgid or msgid in strings or len(re.sub(r"\{\w+\}", "", msgid).strip()) < 4:
                continue
            parts = re.split(r"\{\w+\}", msgid)
            patterns.append(re.compile("^" + "(.+)".join(map(re.escape, parts)) + "$"))
    return patterns


def shown_errors(page: str) -> list[str]:
    """The texts of a page's errors: beside each field, in the summary, a refusal."""
    found = re.findall(r'<p class="error"[^>]*>(.*?)</p>', page, re.S)
    for summary in re.findall(r'<div class="errors" role="alert">(.*?)</div>', page, re.S):
        found += re.findall(r"<li>(.*?)</li>", summary, re.S)
    texts = [html.unescape(re.sub(r"<[^>]+>", "", t)).strip() for t in found]
    return [t for t in texts if t]


def english_left(texts: list[str]) -> list[str]:
    """The texts (or their parts after "field: ") that read as an English message."""
    left = []
    for text in texts:
        for piece in {text, text.split(": ", 1)[-1], text.split(": ", 1)[0]}:
            if any(p.match(piece) for p in english_messages()):
                left.append(text)
    return left


def assert_spanish_errors(page: str, *expected: str) -> list[str]:
    errors = shown_errors(page)
    assert errors, "no error shown"
    assert english_left(errors) == [], errors
    for text in expected:
        assert any(text in e for e in errors), (text, errors)
    return errors


@pytest.fixture
def es(client: TestClient) -> TestClient:
    """A browser reading the site in Spanish (the choice kept in its cookie)."""
    assert client.get("/?lang=es").status_code == 200
    return client


def submit(client: TestClient, page_path: str, action: str, **typed: str):
    """The form posting to `action`, as its page offers it, with `typed` typed over it."""
    page = client.get(page_path)
    assert page.status_code == 200, page.text
    fields = dict(defaults(page.text, action)) | typed
    return client.post(action, data=fields, follow_redirects=False)


# Pydantic's errors, as the pages and the API say them.


class Sample(BaseModel):
    name: Annotated[str, StringConstraints(min_length=1, max_length=3)]
    count: Annotated[StrictInt, Field(ge=1, le=5)]
    day: date
    outcome: VoteOutcome
    items: list[int] = Field(max_length=2)


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"name": "", "count": "x", "day": "2020-13-01", "outcome": "won", "items": [1, 2, 3]},
        {"name": "abcd", "count": 0, "day": "soon", "items": "x"},
        {"name": 1, "count": 9, "day": "2020-01-01T10:00"},
    ],
)
def test_pydantic_errors_read_as_pydantic_writes_them_in_english_and_in_spanish_otherwise(
    data: dict[str, object],
) -> None:
    with pytest.raises(ValidationError) as raised:
        Sample.model_validate(data)
    for error in raised.value.errors():
        assert error["type"] in PYDANTIC, error["type"]
        message = error_message(error)
        assert isinstance(message, Sentence), error
        assert english(message) == error["msg"]  # the API's wording, unchanged
        with i18n.using("es"):
            spanish = str(message)
        assert spanish != error["msg"] and spanish[0].isupper(), spanish


def test_a_schema_validators_message_is_said_in_the_readers_language() -> None:
    body = {"jurisdiction_id": 1, "body": "Board", "held_on": "2020-01-01", "topic": "opt_out",
            "outcome": "passed", "source_url": "not a link"}  # fmt: skip
    with pytest.raises(ValidationError) as raised:
        VoteCreate.model_validate(body)
    assert field_errors(raised.value) == {
        "source_url": "must be an http:// or https:// URL without spaces"
    }
    with i18n.using("es"):
        assert field_errors(raised.value) == {
            "source_url": "debe ser una dirección http:// o https:// sin espacios"
        }


def test_a_services_refusal_is_english_for_the_api_and_spanish_for_a_spanish_page() -> None:
    refused = InvalidInput(
        "a letter cannot be sent in the future",
        [FieldError("sent_on", Sentence("{day} is in the future", day="2999-01-01"))],
    )
    assert str(refused) == "a letter cannot be sent in the future"
    with i18n.using("es"):
        assert field_errors(refused) == {"sent_on": "2999-01-01 es una fecha futura"}
        assert english(refused.errors[0].message) == "2999-01-01 is in the future"


# The forms, in Spanish.


@pytest.mark.parametrize("kind", ["vote", "letter", "response"])
def test_an_event_form_sent_empty_in_spanish_shows_spanish_errors(
    es: TestClient, credentials: Credentials, kind: str
) -> None:
    sign_in(es, credentials, "organizer")
    path = f"/jurisdictions/{SLUG}/log/{kind}"
    r = submit(es, path, path)
    assert r.status_code == 422
    errors = assert_spanish_errors(r.text, REQUIRED)
    assert "Corrija" in r.text and 'lang="es"' in r.text
    if kind == "vote":  # the options, and the summary naming the fields as their labels do
        assert '<option value="opt_out" selected>exclusión</option>' in r.text
        assert any(e.startswith("Quién votó: ") for e in errors), errors
        assert any(e.startswith("Fecha: ") for e in errors), errors


def test_a_vote_in_the_future_is_refused_in_spanish_and_a_saved_one_says_so_in_spanish(
    es: TestClient, credentials: Credentials
) -> None:
    sign_in(es, credentials, "organizer")
    path = f"/jurisdictions/{SLUG}/log/vote"
    typed = {"body": "Junta de supervisores", "held_on": "2999-01-01", "topic": "opt_out",
             "outcome": VoteOutcome.passed.value, "yes": "abc"}  # fmt: skip
    r = submit(es, path, path, **typed)
    assert r.status_code == 422
    assert_spanish_errors(r.text, "Sí: Escriba un número entero")
    r = submit(es, path, path, **(typed | {"yes": "3"}))  # the rules come after the schema
    assert r.status_code == 422
    assert_spanish_errors(r.text, "es una fecha futura: el resultado solo puede ser")

    saved = submit(es, path, path, **(typed | {"held_on": "2020-01-01", "yes": "3"}))
    assert saved.status_code == 303
    assert "Se registró la votación." in es.get(saved.headers["location"]).text


def test_the_announcement_form_sent_empty_in_spanish(
    es: TestClient, credentials: Credentials
) -> None:
    sign_in(es, credentials, "organizer")
    r = submit(es, "/announcements/new", "/announcements/new", announced_on="")
    assert r.status_code == 422
    assert_spanish_errors(r.text, REQUIRED)


def test_the_jurisdiction_and_city_forms_refuse_in_spanish(
    es: TestClient, credentials: Credentials
) -> None:
    sign_in(es, credentials, "organizer")
    path = f"/jurisdictions/{SLUG}/edit"
    r = submit(es, path, path, population="many")
    assert r.status_code == 422
    assert_spanish_errors(r.text, "Población: Escriba un número entero")
    r = submit(es, path, path, population="-1")
    assert r.status_code == 422
    assert_spanish_errors(r.text, "Escriba un número igual o mayor que 0")
    saved = submit(es, path, path, public_notes="Nota")
    assert saved.status_code == 303
    assert "Se guardó la jurisdicción." in es.get(saved.headers["location"]).text

    r = submit(es, "/jurisdictions/new", "/jurisdictions/new")
    assert r.status_code == 422
    assert_spanish_errors(r.text, REQUIRED)


def test_the_agency_form_refuses_in_spanish(
    es: TestClient, session: Session, credentials: Credentials
) -> None:
    agency = factories.agency(session, AgencyKind.state_identification_bureau, "CA")
    session.commit()
    sign_in(es, credentials, "organizer")
    path = f"/agencies/{agency.id}/edit"
    r = submit(es, path, path, name="", contact_source_url="not a link",
               contact_checked_on="2999-01-01")  # fmt: skip
    assert r.status_code == 422
    assert_spanish_errors(r.text, "debe ser una dirección http:// o https:// sin espacios")
    r = submit(es, path, path, contact_checked_on="2999-01-01")
    assert r.status_code == 422
    assert_spanish_errors(r.text, "2999-01-01 es una fecha futura")
    assert "Fecha en que se verificaron allí" in r.text and "Checked there on" not in r.text


def test_a_document_upload_refused_in_spanish(
    es: TestClient, session: Session, credentials: Credentials
) -> None:
    j = factories.jurisdiction(session)
    letter = factories.letter(session, j, factories.agency(session))
    session.commit()
    sign_in(es, credentials, "organizer")
    page, action = f"/letters/{letter.id}", f"/letters/{letter.id}/documents"
    form = dict(defaults(es.get(page).text, action))
    r = es.post(action, data=form, files={"file": ("scan.pdf", b"", "application/pdf")})
    assert r.status_code == 422
    assert_spanish_errors(r.text, "está vacío")
    r = es.post(action, data=form, files={"file": ("page.pdf", b"<html>x</html>", "text/html")})
    assert r.status_code == 422
    assert_spanish_errors(r.text, "contiene HTML u otro marcado")
    r = es.post(action, data=form, files={"file": ("scan.txt", b"hello", "text/plain")},
                follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    assert "Se adjuntó scan.txt a la carta." in es.get(r.headers["location"]).text


def test_sign_in_and_the_account_forms_refuse_in_spanish(
    es: TestClient, credentials: Credentials
) -> None:
    wrong = {"email": "nobody@example.org", "password": "wrong", "csrf_token": csrf(es, "/login")}
    r = es.post("/login", data=wrong)
    assert r.status_code == 401
    assert_spanish_errors(r.text, "El correo electrónico o la contraseña no son correctos.")

    sign_in(es, credentials, "viewer")
    r = submit(es, "/account", "/account/api-keys", name="")
    assert r.status_code == 422
    assert_spanish_errors(r.text)
    r = submit(es, "/account", "/account/follows", target="jurisdiction", jurisdiction_id="")
    assert r.status_code == 422
    assert_spanish_errors(r.text, "es obligatorio cuando lo que se sigue es")
    r = submit(es, "/account", "/account/follows", target="all")
    assert r.status_code == 303
    assert "Ahora lo sigue." in es.get(r.headers["location"]).text


def test_a_refused_delete_and_a_delete_say_so_in_spanish(
    es: TestClient, session: Session, credentials: Credentials
) -> None:
    j = factories.jurisdiction(session, "06001")
    sib = factories.agency(session, AgencyKind.state_identification_bureau, "CA")
    letter = factories.letter(session, j, sib)
    answer = factories.response(session, j, sib, letter_id=letter.id)
    vote = factories.vote(session, j)
    session.commit()
    sign_in(es, credentials, "admin")
    path = f"/jurisdictions/{SLUG}/letter/{letter.id}/delete"
    r = es.post(path, data=dict(defaults(es.get(path).text, path)), follow_redirects=False)
    assert r.status_code == 409
    said = f"las respuestas {answer.id} responden a esta carta: desvincúlelas o elimínelas"
    assert said in r.text and "answer this letter" not in r.text

    path = f"/jurisdictions/{SLUG}/vote/{vote.id}/delete"
    r = es.post(path, data=dict(defaults(es.get(path).text, path)), follow_redirects=False)
    assert r.status_code == 303
    shown = es.get(r.headers["location"]).text
    assert "Se eliminó la votación. Puede restaurarse desde el historial de cambios." in shown


def test_the_error_pages_are_spanish(es: TestClient, credentials: Credentials) -> None:
    missing = es.get("/jurisdictions/no-such-place", headers={"Accept": "text/html"})
    assert missing.status_code == 404
    assert "<h1>No se encontró</h1>" in missing.text
    said = "no hay ninguna jurisdicción con el identificador 'no-such-place'"
    assert said in html.unescape(missing.text)
    nowhere = es.get("/no/such/page", headers={"Accept": "text/html"})
    assert nowhere.status_code == 404 and "no hay nada en /no/such/page" in nowhere.text

    sign_in(es, credentials, "viewer")
    refused = es.get(f"/jurisdictions/{SLUG}/log/vote", headers={"Accept": "text/html"})
    assert refused.status_code == 403
    assert "<h1>Acceso denegado</h1>" in refused.text
    assert "para registrar eventos se necesita el rol de organizador/a" in refused.text
    for page in (missing, nowhere, refused):
        assert "Not found" not in page.text and "Forbidden" not in page.text


# The API keeps English, whatever the language asked.


def test_the_api_answers_errors_in_english_to_a_spanish_speaker(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    headers = credentials.headers("write") | {"Accept-Language": "es"}
    j = factories.jurisdiction(session)
    session.commit()
    r = client.post("/api/v1/votes", json={}, headers=headers)
    assert r.status_code == 422
    body = r.json()
    assert body["title"] == "Invalid input" and body["detail"].startswith("invalid input: ")
    assert {e["message"] for e in body["errors"]} == {"Field required"}

    vote = {"jurisdiction_id": j.id, "body": "Board", "held_on": "2999-01-01",
            "topic": "opt_out", "outcome": "passed", "source_url": "not a link"}  # fmt: skip
    r = client.post("/api/v1/votes", json=vote, headers=headers)
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {"field": "source_url", "message": "must be an http:// or https:// URL without spaces"}
    ]
    r = client.post("/api/v1/votes", json=vote | {"source_url": None}, headers=headers)
    assert r.status_code == 422
    assert r.json()["errors"][0]["message"].startswith("is in the future, so outcome must be")

    r = client.post("/api/v1/announcements", json={"announced_on": "someday"}, headers=headers)
    messages = [e["message"] for e in r.json()["errors"]]
    assert "Field required" in messages and not spanish_in(messages)

    missing = client.get("/api/v1/jurisdictions/999999", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["detail"] == "no jurisdiction with id 999999"
    assert missing.json()["title"] == "Not found"
    nowhere = client.get("/api/v1/nothing-here", headers=headers)
    assert nowhere.json()["detail"] == "nothing at /api/v1/nothing-here"


def spanish_in(messages: list[str]) -> list[str]:
    """Messages that read as Spanish: the catalog's Spanish words that English never uses."""
    return [m for m in messages if re.search(r"Escriba|Elija|obligatorio|fecha|válid", m)]
