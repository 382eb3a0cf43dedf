"""The notice and the chaser in the language the organizer chooses (English by default,
whatever the page's), and a letter read in the other language, labelled as a translation;
on both databases."""

import io
from datetime import date

import sqlalchemy as sa
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlmodel import Session, col

from optout_tracker import i18n
from optout_tracker.clock import today
from optout_tracker.enums import Channel
from optout_tracker.models import Jurisdiction, Letter
from optout_tracker.schemas import LetterUpdate
from optout_tracker.security import CLI
from optout_tracker.services import letters, notices
from tests import factories
from tests.conftest import Credentials
from tests.forms import defaults
from tests.test_notices import MARIN, SLUG, as_form, ice, notice, sib
from tests.test_pages import sign_in

NOTICE = f"/jurisdictions/{SLUG}/notice"
VOTE_ES = (
    "El 2 de diciembre de 2026, el Board of Supervisors de Marin County votó a favor de "
    "excluirse del programa Comunidades Seguras. La votación fue de 4 a 1 (abstenciones: 0; "
    "ausencias: 1)."
)
NOTIFIES_ES = (
    "Por la presente, y tal como el Servicio de Inmigración y Control de Aduanas de los Estados "
    "Unidos (ICE, por sus siglas en inglés) pidió a las jurisdicciones que no desean formar "
    "parte, Marin County notifica por escrito que no desea participar en Comunidades Seguras."
)


def voted(session: Session) -> Jurisdiction:
    j = factories.jurisdiction(session, MARIN)
    factories.vote(
        session, j, held_on=date(2026, 12, 2), measure=None, yes=4, no=1, abstain=0, absent=1
    )
    session.commit()
    return j


def sent_for(session: Session, j: Jurisdiction) -> list[Letter]:
    session.expire_all()
    return list(
        session.scalars(
            sa.select(Letter).where(col(Letter.jurisdiction_id) == j.id).order_by(col(Letter.id))
        )
    )


def test_the_notice_form_as_it_comes_writes_english_even_on_a_spanish_page(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    j = voted(session)
    sign_in(client, credentials, "organizer")
    page = client.get(f"{NOTICE}?lang=es").text
    assert '<label for="f-language">Idioma de la carta</label>' in page
    assert '<option value="en" selected>English</option>' in page
    assert '<option value="es">Español</option>' in page
    fields = defaults(page, NOTICE)
    assert ("language", "en") in fields
    # Submitted as it comes, the optional fields emptied: English all the same.
    emptied = [(k, "" if k in ("subject", "channel") else v) for k, v in fields]
    saved = client.post(NOTICE, data=as_form(emptied), follow_redirects=False)
    assert saved.status_code == 303, saved.text
    sent = sent_for(session, j)
    assert len(sent) == 2
    names = {a.id: a.name for a in (sib(session), ice(session))}
    for x in sent:
        body = x.body or ""
        assert body.startswith(f"To {names[x.agency_id]}:")
        assert "On December 2, 2026, the Board of Supervisors of Marin County voted" in body
        assert "The vote was 4 to 1, 0 abstaining, 1 absent." in body
        assert x.subject == (
            "Marin County: notice that it does not wish to participate in Secure Communities"
        )
        assert x.language == "en"
        # Its translation, to read, written from the same records at once.
        assert x.translation is not None and x.translation["language"] == "es"
        assert VOTE_ES in (x.translation["body"] or "")


def test_choosing_spanish_writes_the_notice_in_spanish(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    j = voted(session)
    sign_in(client, credentials, "organizer")
    fields = [(k, v) for k, v in defaults(client.get(NOTICE).text, NOTICE) if k != "language"]
    saved = client.post(NOTICE, data=as_form([*fields, ("language", "es")]), follow_redirects=False)
    assert saved.status_code == 303, saved.text
    sent = sent_for(session, j)
    names = {a.id: a.name for a in (sib(session), ice(session))}
    for x in sent:
        body = x.body or ""
        assert body.startswith(f"A la atención de {names[x.agency_id]}:\n\n{VOTE_ES}\n\n")
        assert NOTIFIES_ES in body
        assert (
            "Le pedimos que confirme por escrito que recibió esta notificación, y que ICE "
            "organice la reunión que describió con nuestros socios federales y estatales, para "
            "resolver esta solicitud." in body
        )
        assert "Esta notificación se envía a:\n- " in body
        assert "Board of Supervisors of" not in body  # no English sentence left
        assert x.subject == (
            "Marin County: notificación de que no desea participar en Comunidades Seguras"
        )
        assert x.language == "es" and x.translation is not None
        assert x.translation["language"] == "en"
        assert (x.translation["body"] or "").startswith(f"To {names[x.agency_id]}:")
    # The printable page writes the letter's own lines in its language, whatever the page's.
    page = client.get(f"/letters/{sent[0].id}?lang=en").text
    assert '<article class="letter" lang="es"' in page
    day = today()
    months = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
              "septiembre", "octubre", "noviembre", "diciembre"]  # fmt: skip
    assert f"{day.day} de {months[day.month - 1]} de {day.year}</time>" in page
    assert "<strong>Asunto: Marin County: notificación" in page and "<p>Atentamente,</p>" in page
    assert ">Read in English</a>" in page


def test_a_text_written_by_hand_keeps_the_language_chosen_and_has_no_translation(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    j = voted(session)
    sign_in(client, credentials, "organizer")
    fields = defaults(client.get(NOTICE).text, NOTICE)
    fields = [(k, v) for k, v in fields if k not in ("body", "language", "recipients")]
    fields += [("recipients", str(ice(session).id)), ("language", "es"), ("body", "Nuestro texto.")]
    assert client.post(NOTICE, data=as_form(fields), follow_redirects=False).status_code == 303
    (x,) = sent_for(session, j)
    assert x.body == "Nuestro texto." and x.language == "es" and x.translation is None
    page = client.get(f"/letters/{x.id}").text
    assert "Read in" not in page and "Leer en" not in page
    assert client.get(f"/letters/{x.id}?translation=en").status_code == 404


def test_the_api_notice_is_english_and_a_given_text_has_no_language(session: Session) -> None:
    j = voted(session)
    written = notices.send_notice(session, j.id or 0, notice(), CLI, 30)
    assert {(x.language, (x.translation or {}).get("language")) for x in written} == {("en", "es")}
    given = notices.send_notice(session, j.id or 0, notice(body="Our words."), CLI, 30)
    assert {(x.language, x.translation) for x in given} == {(None, None)}


def test_a_letter_reads_in_the_other_language_labelled_as_a_translation(
    client: TestClient, session: Session
) -> None:
    j = voted(session)
    to = ice(session)
    to.email = "secure.communities@ice.dhs.gov"
    (x,) = notices.send_notice(
        session, j.id or 0, notice(recipients=[to.id], channel="email"), CLI, 30
    )
    session.commit()
    page = client.get(f"/letters/{x.id}?lang=es").text  # the page in Spanish, the letter not
    link = f'href="/letters/{x.id}?translation=es" hreflang="es" lang="es">Leer en español</a>'
    assert link in page
    assert '<article class="letter" lang="en"' in page and "<p>Sincerely,</p>" in page
    assert "Traducción" not in page

    for lang, note in (
        ("en", "Translation for reading only, not the letter as sent: it was sent in English."),
        ("es", "Traducción solo para leer, no la carta enviada: la carta se envió en inglés."),
    ):
        read = client.get(f"/letters/{x.id}?translation=es&lang={lang}")
        assert read.status_code == 200
        text = read.text
        assert f'<p class="translation-note" role="note" lang="{lang}"><strong>{note}' in text
        assert '<article class="letter" lang="es"' in text
        assert f"<p>A la atención de {to.name}:</p>" in text and VOTE_ES in text
        assert (
            "<p>Atentamente,</p>" in text and "<strong>Asunto: Marin County: notificación" in text
        )
        back = f'href="/letters/{x.id}" hreflang="en" lang="en">Read in English</a>'
        assert back in text
        assert f'href="/letters/{x.id}.pdf?translation=es"' in text
        assert 'id="email-text"' not in text  # what is sent is the letter, not this
        assert "mailto:secure.communities" in text and "body=To%20ICE%20" in text  # as sent

    pdf = client.get(f"/letters/{x.id}.pdf?translation=es&lang=en")
    assert pdf.status_code == 200
    flat = " ".join(
        " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages).split()
    )
    assert flat.startswith("Translation for reading only, not the letter as sent")
    assert VOTE_ES in flat and "Atentamente," in flat and "Sincerely," not in flat
    sent = client.get(f"/letters/{x.id}.pdf")
    as_sent = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(sent.content)).pages)
    assert "Translation" not in as_sent and "Sincerely," in as_sent

    assert client.get(f"/letters/{x.id}?translation=fr").status_code == 404
    assert client.get(f"/letters/{x.id}?translation=en").status_code == 200  # as sent
    # Its text edited, the translation no longer translates it: gone.
    letters.update(session, x, LetterUpdate(body="Edited."), CLI)
    session.commit()
    assert x.translation is None and x.language == "en"
    assert client.get(f"/letters/{x.id}?translation=es").status_code == 404
    assert "Leer en español" not in client.get(f"/letters/{x.id}").text


def test_the_chaser_is_english_as_it_comes_and_spanish_when_chosen(
    client: TestClient, session: Session, credentials: Credentials
) -> None:
    j = factories.jurisdiction(session, MARIN)
    first = factories.letter(session, j, ice(session), subject="Notice", channel=Channel.fax,
                             body="Our notice.")  # fmt: skip
    session.commit()
    sign_in(client, credentials, "organizer")
    action = f"/letters/{first.id}/chaser"
    page = client.get(f"{action}?lang=es").text
    assert '<label for="f-language">Idioma de la carta</label>' in page
    fields = defaults(page, action)
    assert ("language", "en") in fields
    english = client.post(action, data=dict(fields), follow_redirects=False)
    assert english.status_code == 303, english.text
    chasers = [x for x in sent_for(session, j) if x.follows_letter_id == first.id]
    (x,) = chasers
    assert x.subject == "Follow-up: Notice" and x.language == "en"
    to = ice(session).name
    assert (x.body or "").startswith(f"To {to}:\n\nOn October 7, 2010, Marin County wrote to you")

    fields = defaults(client.get(action).text, action)  # a new form, a new token
    spanish = client.post(action, data=dict(fields) | {"language": "es"}, follow_redirects=False)
    assert spanish.status_code == 303, spanish.text
    y = [c for c in sent_for(session, j) if c.follows_letter_id == first.id][-1]
    assert y.subject == "Seguimiento: Notice" and y.language == "es"
    assert y.body == (
        f"A la atención de {to}:\n\n"
        "El 7 de octubre de 2010, Marin County le escribió por fax con el asunto «Notice». "
        "El plazo para responder vencía el 6 de noviembre de 2010, y no hemos recibido "
        "respuesta.\n\n"
        "Le pedimos de nuevo que responda por escrito a esa carta.\n\n"
        "Para su referencia, este es el texto de nuestra carta del 7 de octubre de 2010:\n\n"
        "Our notice."  # the letter followed, as it was sent
    )
    assert y.translation is not None and y.translation["subject"] == "Follow-up: Notice"
    read = client.get(f"/letters/{y.id}?translation=en&lang=en").text
    assert f"<p>To {to}:</p>" in read and "it was sent in Spanish." in read


def test_the_api_keeps_a_text_given_as_the_site_writes_it_in_spanish(session: Session) -> None:
    j = voted(session)
    to = ice(session)
    with i18n.using("es"):
        spanish = notices.notice_text(j, notices.latest_passed_vote(session, j.id or 0), [to], to)
    (x,) = notices.send_notice(
        session, j.id or 0, notice(recipients=[to.id], body=spanish), CLI, 30
    )
    assert x.body == spanish and x.language == "es"
    assert x.translation is not None and x.translation["language"] == "en"
