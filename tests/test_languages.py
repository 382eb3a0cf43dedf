"""English and Spanish: which language an answer is in (`?lang=`, kept in a cookie; else
Accept-Language; else OPTOUT_DEFAULT_LOCALE), said and varied on, kept apart in the public
cache; the catalogs complete and compiled; dates and numbers as each language writes them."""

import io
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from babel.messages.catalog import Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from sqlmodel import Session, col

from optout_tracker import i18n
from optout_tracker.history import load_history
from optout_tracker.main import create_app
from optout_tracker.models import AuditEntry, User
from tests.conftest import Credentials, make_settings
from tests.forms import defaults
from tests.test_pages import csrf, sign_in

SPANISH, ENGLISH = {"Accept-Language": "es"}, {"Accept-Language": "en"}


@pytest.mark.parametrize(
    ("asked", "kept", "header", "default", "chosen"),
    [
        ("es", None, "en", "en", "es"),  # asked for wins
        (None, "es", "en", "en", "es"),  # then what was asked for before
        ("fr", "es", None, "en", "es"),  # a language the site does not speak is no choice
        (None, None, "es-MX,es;q=0.9,en;q=0.8", "en", "es"),
        (None, None, "en;q=0.5, es;q=0.8", "en", "es"),  # by quality, not order
        (None, None, "de, fr;q=0.9", "es", "es"),  # none spoken: the site's default
        (None, None, None, "en", "en"),
    ],
)
def test_negotiation(asked, kept, header, default, chosen) -> None:
    assert i18n.negotiate(asked, kept, None, header, default) == chosen


def test_dates_and_numbers_as_each_language_writes_them() -> None:
    assert i18n.format_day(date(2026, 12, 2)) == "December 2, 2026"
    assert i18n.format_number(3142) == "3,142"
    with i18n.using("es"):
        assert i18n.format_day(date(2026, 12, 2)) == "2 de diciembre de 2026"
        assert i18n.format_number(3142) == "3.142"
    assert i18n.LOCALE.get() == "en"  # the block's language ends with it


def test_lang_switches_the_page_and_is_kept_in_a_cookie(client: TestClient) -> None:
    spanish = client.get("/agencies?lang=es")
    assert spanish.status_code == 200  # `lang` is no unknown filter
    assert spanish.headers["content-language"] == "es"
    assert "lang=es" in spanish.headers["set-cookie"]
    assert '<html lang="es">' in spanish.text and ">Mapa<" in spanish.text
    assert 'hreflang="en"' in spanish.text  # the switch back, one tap away
    kept = client.get("/agencies")
    assert kept.headers["content-language"] == "es" and ">Mapa<" in kept.text
    back = client.get("/agencies?lang=en")
    assert back.headers["content-language"] == "en" and ">Map<" in back.text


def test_accept_language_decides_and_the_cache_keeps_languages_apart(client: TestClient) -> None:
    anyone = TestClient(client.app)  # no cookie: each request says its language
    for _ in range(2):  # rendered, then answered from the public cache
        for header, word in (("es-MX,es;q=0.9", ">Mapa<"), ("en-US", ">Map<")):
            r = anyone.get("/agencies", headers={"Accept-Language": header})
            assert r.status_code == 200 and word in r.text, header
            assert r.headers["content-language"] == header[:2]
            assert "Accept-Language" in r.headers["vary"]


def test_the_default_locale_serves_those_who_ask_for_none(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'empty.db'}", default_locale="es")
    app = create_app(settings)
    try:
        with TestClient(app) as anyone:
            r = anyone.get("/healthz", headers={"Accept-Language": "de"})
            assert r.headers["content-language"] == "es"
    finally:
        app.state.engine.dispose()


def test_every_message_is_translated_and_the_compiled_catalog_is_current() -> None:
    for locale in i18n.LOCALES[1:]:
        folder = i18n.CATALOGS / locale / "LC_MESSAGES"
        with (folder / f"{i18n.DOMAIN}.po").open("rb") as f:
            catalog = read_po(f)
        untranslated = [m.id for m in catalog if m.id and not _translated(m, catalog.num_plurals)]
        fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
        assert not untranslated and not fuzzy, (locale, untranslated, fuzzy)
        compiled = io.BytesIO()
        write_mo(compiled, catalog)
        assert (folder / f"{i18n.DOMAIN}.mo").read_bytes() == compiled.getvalue(), (
            f"{locale}: run `make messages` to compile the catalog"
        )


def _translated(message: Message, forms: int) -> bool:
    """Whether the message has its translation: each of the language's plural forms."""
    string = message.string
    if isinstance(message.id, tuple):
        return isinstance(string, tuple | list) and len(string) == forms and all(string)
    return bool(string)


def test_a_signed_in_users_lang_is_kept_on_their_account(
    client: TestClient, credentials: Credentials, session: Session
) -> None:
    sign_in(client, credentials, "viewer")
    user = session.scalars(sa.select(User).where(col(User.email) == "viewer@example.org")).one()
    assert user.locale is None

    def writes() -> int:  # each change of the user is audited: how many there were
        return len(
            session.scalars(
                sa.select(AuditEntry).where(
                    col(AuditEntry.entity) == "user", col(AuditEntry.entity_id) == user.id
                )
            ).all()
        )

    before = writes()
    assert ">Mapa<" in client.get("/agencies?lang=es").text
    session.refresh(user)
    assert user.locale == "es" and writes() == before + 1
    client.get("/agencies?lang=es")
    client.get("/?lang=es")
    assert writes() == before + 1  # asked again: written only when it changes

    elsewhere = TestClient(client.app)  # another browser: the account's language on sign-in
    data = {"email": "viewer@example.org", "password": "correct horse battery"}
    r = elsewhere.post("/login", data={**data, "csrf_token": csrf(elsewhere, "/login")},
                       follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and "lang=es" in r.headers["set-cookie"]
    account = elsewhere.get("/account").text
    assert '<html lang="es">' in account
    assert dict(defaults(account, "/account/language"))["locale"] == "es"  # the choice shown

    # Back to English in one tap, from the first browser: the account follows.
    assert ">Map<" in client.get("/agencies?lang=en").text
    session.refresh(user)
    assert user.locale == "en"
    # The other browser still reads Spanish (its cookie), and its account page says what the
    # account keeps.
    page = elsewhere.get("/account").text
    assert '<html lang="es">' in page
    assert dict(defaults(page, "/account/language"))["locale"] == "en"


def test_a_user_keeps_a_language_that_follows_them_to_every_browser(
    client: TestClient, credentials: Credentials
) -> None:
    sign_in(client, credentials, "viewer")
    form = dict(defaults(client.get("/account").text, "/account/language"))
    assert form["locale"] == "en"  # the form as it comes: the language of the page
    saved = client.post("/account/language", data={**form, "locale": "es"}, follow_redirects=False)
    assert saved.status_code == 303 and "lang=es" in saved.headers["set-cookie"]
    assert ">Mapa<" in client.get("/account").text

    elsewhere = TestClient(client.app)  # another browser: English until they sign in
    assert ">Map<" in elsewhere.get("/agencies").text
    data = {"email": "viewer@example.org", "password": "correct horse battery"}
    r = elsewhere.post("/login", data={**data, "csrf_token": csrf(elsewhere, "/login")},
                       follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and "lang=es" in r.headers["set-cookie"]
    assert ">Mapa<" in elsewhere.get("/agencies").text

    refused = client.post(
        "/account/language",
        data={**dict(defaults(client.get("/account").text, "/account/language")), "locale": "fr"},
    )
    assert refused.status_code == 422


def test_the_api_keeps_its_codes_and_says_reasons_and_labels_in_the_asked_language(
    client: TestClient, session: Session
) -> None:
    load_history(session, 30)
    session.commit()
    asked = {"fips": "06085", "as_of": "2010-12-31"}
    for _ in range(2):  # rendered, then answered from the public cache
        (es,) = client.get("/api/v1/jurisdictions", params=asked, headers=SPANISH).json()["items"]
        (en,) = client.get("/api/v1/jurisdictions", params=asked, headers=ENGLISH).json()["items"]
        assert es["status"] == en["status"] == "vote_passed"  # the code, in English
        assert (en["status_label"], es["status_label"]) == ("Vote passed", "Votación aprobada")
        assert en["status_reason"] == "Board of Supervisors voted 5\u20130 to opt out"
        assert es["status_reason"] == "Board of Supervisors votó 5\u20130 a favor de excluirse"
    timeline = client.get(f"/api/v1/jurisdictions/{es['id']}/timeline", headers=SPANISH).json()
    said = [item["description"] for item in timeline["items"]]
    assert "Board of Supervisors votó 5\u20130 a favor de excluirse" in said


def test_activity_feeds_and_calendar_in_the_asked_language(
    client: TestClient, session: Session
) -> None:
    load_history(session, 30)
    session.commit()
    feed = client.get("/feeds/activity.atom", headers=SPANISH)
    assert 'xml:lang="es"' in feed.text
    assert "Campañas para excluirse de Comunidades Seguras: cambios" in feed.text
    assert " envió una solicitud de exclusión a " in feed.text
    english = client.get("/feeds/activity.atom", headers=ENGLISH).text
    assert " sent an opt-out request to " in english
    page = client.get("/activity", headers=SPANISH).text
    assert " envió una solicitud de exclusión a " in page and " sent an " not in page
    calendar = client.get("/calendar.ics", headers=SPANISH).text
    assert "X-WR-CALNAME:Campañas de exclusión" in calendar
