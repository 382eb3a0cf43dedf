"""The maps, the timeline and the counts in the reader's language (issue 17): the legend, the
titles of the drawn areas, the map's label, the PNG's title, the chart's words, numbers as
each language writes them (3.142), option labels; and what is drawn once per data version is
kept per language, never one language's drawing served to another."""

import re
from collections.abc import Iterator
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from optout_tracker import i18n, mapimage, statusmap
from optout_tracker.enums import ROLLOUT_LABELS, STATUS_LABELS
from optout_tracker.main import SESSION_COOKIE, create_app
from optout_tracker.services import national_timeline
from tests.conftest import Credentials, make_settings, use_test_session
from tests.test_national_timeline import story
from tests.test_pages import sign_in

SPANISH = {"Accept-Language": "es"}
ENGLISH = {"Accept-Language": "en"}
# Past the public cache (which keeps answers for visitors with no session): what the app
# itself keeps (the drawn maps, the pictures, the timeline) answers.
UNCACHED = {"Cookie": f"{SESSION_COOKIE}=x"}
ENGLISH_LABELS = [*STATUS_LABELS.values(), *ROLLOUT_LABELS.values()]


@pytest.fixture
def client(session: Session, seeded_engine: Engine) -> Iterator[TestClient]:
    national_timeline.forget()  # rolled-back tests may repeat a data version
    url = seeded_engine.url.render_as_string(hide_password=False)
    app = create_app(make_settings(url))
    use_test_session(app, session)
    with TestClient(app) as c:
        yield c
    app.state.engine.dispose()


def svg_of(page: str) -> str:
    found = re.search(r'<svg class="map".*?</svg>', page, re.S)
    assert found, "the page draws the map"
    return unescape(found.group(0))


def legend_of(page: str) -> str:
    found = re.search(r'<div class="legend-box">.*?</div>', page, re.S)
    assert found, "the page has the legend"
    return unescape(found.group(0))


def no_english_label(text: str) -> None:
    """No category of either layer in English: as a legend row, a count's label, a title."""
    for label in [*ENGLISH_LABELS, "through the state's campaign", "Not tracked"]:
        for shown in (f">{label}<", f'data-label="{label}"', f": {label}<", f": {label};"):
            assert shown not in text, shown
    assert "activated despite opt-out" not in text


def spanish_map(page: str, label: str) -> None:
    """The map's label, its areas' titles and its legend in Spanish."""
    svg, legend = svg_of(page), legend_of(page)
    assert f'<title id="map-label">{label}' in svg
    assert re.search(r"<title>[^<]+, [A-Z]{2}: Sin acción</title>", svg)
    assert '<span data-key="s-no_action" data-label="Sin acción">' in legend
    assert ">Exclusión denegada<" in legend
    assert 'data-label="Exclusión denegada, por la campaña del estado"' in legend
    assert "Campaña que cubre cada zona" in legend
    no_english_label(page)


def test_the_home_map_speaks_spanish_and_counts_as_spanish_writes(client: TestClient) -> None:
    r = client.get("/?lang=es")
    assert r.status_code == 200 and '<html lang="es">' in r.text
    spanish_map(r.text, "Mapa de los condados de EE. UU. según la situación de su campaña, ")
    # Thousands with a point: the counties with no campaign of their own, in the legend.
    count = re.search(r'data-key="s-no_action" data-label="Sin acción">([^<]+)<', r.text)
    assert count and re.fullmatch(r"\d{1,3}\.\d{3}", count.group(1)), count
    assert 'data-words="activado pese a la exclusión"' in r.text  # what a repaint adds

    english = client.get("/?lang=en")
    count = re.search(r'data-key="s-no_action" data-label="No action">([^<]+)<', english.text)
    assert count and re.fullmatch(r"\d{1,3},\d{3}", count.group(1)), count
    assert '<title id="map-label">Map of US counties by campaign status, ' in english.text


def test_the_states_view_and_the_rollout_layer_speak_spanish(client: TestClient) -> None:
    states = client.get("/?view=states&lang=es")
    spanish_map(states.text, "Mapa de los estados de EE. UU. según la situación de su campaña, ")
    rollout = client.get("/?layer=rollout&lang=es")
    svg, legend = svg_of(rollout.text), legend_of(rollout.text)
    assert "según la implantación de Comunidades Seguras" in svg
    assert re.search(r"<title>[^<]+, [A-Z]{2}: (Sin activar|Activado)</title>", svg)
    assert ">Sin activar<" in legend and ">Activación programada<" in legend
    no_english_label(rollout.text)


def test_a_state_page_and_the_embedded_map_speak_spanish(client: TestClient) -> None:
    state = client.get("/states/CA?lang=es")
    assert state.status_code == 200
    spanish_map(state.text, "Mapa de los condados de California según la situación de su campaña")
    embedded = client.get("/embed/map?state=CA&lang=es")
    assert embedded.status_code == 200 and '<html lang="es">' in embedded.text
    spanish_map(embedded.text, "Mapa de los condados de California según")
    share = client.get("/?lang=es").text
    assert 'content="Condados según la situación de su campaña, ' in share  # the card's words


def test_the_timeline_speaks_spanish_and_writes_its_numbers_so(
    client: TestClient, session: Session
) -> None:
    story(session)
    session.commit()
    r = client.get("/timeline?lang=es")
    assert r.status_code == 200
    drawn = re.search(r'<svg class="timeline-chart".*?</svg>', r.text, re.S)
    assert drawn, "the page draws the chart"
    chart = unescape(drawn.group(0))
    assert '<title id="timeline-chart-title">Condados activados por mes y en total, de oct' in chart
    assert "de 3.142 condados activados de oct 2008 a ene 2017" in chart  # its description
    for band in ("Anuncios", "Eventos de campaña", "Condados activados en total"):
        assert f">{band}</text>" in chart, band
    assert re.search(r"<title>may 2010: \d+ condados? activados?, 4 en total</title>", chart)
    for english in ("Announcements", "Campaign events", "in total", "Activated that month"):
        assert english not in chart, english
    assert "6 de 3.142 condados" in r.text  # the lede, and the table's months in Spanish
    assert '">may 2010</a></th>' in r.text

    steps = client.get("/?lang=es").text.split('<nav class="steps"')[1].split("</nav>")[0]
    assert 'data-day-label="Día"' in steps  # the slider's label (static/map.js)
    assert ">sept 2010</a>" in steps and ">Hoy</a>" in steps  # the map's days


def test_counts_of_thousands_as_each_language_writes_them(client: TestClient) -> None:
    assert re.search(r"<p>\d\.\d{3} jurisdicciones ·", client.get("/jurisdictions?lang=es").text)
    assert re.search(r"<p>\d,\d{3} jurisdictions ·", client.get("/jurisdictions?lang=en").text)


def test_the_picture_is_drawn_and_kept_per_language(client: TestClient) -> None:
    spanish = client.get("/map.png?state=NV&lang=es", headers=UNCACHED)
    english = client.get("/map.png?state=NV&lang=en", headers=UNCACHED)
    assert spanish.status_code == english.status_code == 200
    assert spanish.content != english.content  # its title line, in each language
    assert spanish.headers["etag"] != english.headers["etag"]
    renders, hits = mapimage.stats.renders, mapimage.stats.hits
    for _ in range(2):  # each kept: none drawn again, each language its own
        again = client.get("/map.png?state=NV&lang=es", headers=UNCACHED)
        assert again.content == spanish.content
        assert client.get("/map.png?state=NV&lang=en", headers=UNCACHED).content == english.content
    assert (mapimage.stats.renders, mapimage.stats.hits) == (renders, hits + 4)


@pytest.mark.parametrize("cookie", [{}, UNCACHED], ids=["public cache", "kept drawings"])
@pytest.mark.parametrize(
    ("path", "spanish", "english"),
    [
        ("/", "Sin acción", "No action"),
        ("/states/NV", "Sin acción", "No action"),
        ("/embed/map?layer=rollout", "Sin activar", "Not activated"),
        ("/timeline", "Nada con fecha todavía", "Nothing dated yet"),  # the chart, empty
    ],
)
def test_what_is_kept_never_crosses_languages(
    client: TestClient, cookie: dict[str, str], path: str, spanish: str, english: str
) -> None:
    anyone = TestClient(client.app)  # no language cookie: each request says its own
    for headers, said, unsaid in (
        (SPANISH, spanish, english),
        (ENGLISH, english, spanish),
        (SPANISH, spanish, english),
    ):
        r = anyone.get(path, headers={**headers, **cookie})
        assert r.status_code == 200 and r.headers["content-language"] == headers["Accept-Language"]
        assert said in r.text and unsaid not in r.text, (path, headers)


def test_map_words_are_said_where_shown_not_at_import() -> None:
    """The categories keep their message; each answer says it in its language."""
    key = statusmap.own(next(iter(STATUS_LABELS))).key
    assert statusmap.LABELS[key] == "No action"
    with i18n.using("es"):
        assert statusmap.LABELS[key] == "Sin acción"
        assert statusmap.LABELS["v-denied"] == "Exclusión denegada, por la campaña del estado"
    assert statusmap.LABELS["v-denied"] == "Opt-out denied, through the state's campaign"


def test_option_labels_from_python_are_translated(
    client: TestClient, credentials: Credentials
) -> None:
    agencies = client.get("/agencies?lang=es").text
    assert ">Oficinas estatales de identificación</option>" in agencies
    assert ">State identification bureaus<" not in agencies
    sign_in(client, credentials, "admin")
    account = client.get("/account?lang=es").text
    assert '<option value="weekly" selected>semanal</option>' in account
    assert ">lectura: también las notas privadas</option>" in account  # an API key's scope
    assert ">weekly</option>" not in account and ">read: also private notes<" not in account
    users = client.get("/admin/users").text  # the language is kept (its cookie)
    assert ">administración</td>" in users
